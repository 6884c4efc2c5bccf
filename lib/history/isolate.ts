// Finding the bad points of a refused batch: InfluxDB answers 400 for a whole
// request when some of its points are bad (type conflict, unparsable, beyond
// retention) and does not say which. Halving the batch until each bad point is
// alone writes every good point and names every bad one, in about
// 2·log2(n) requests per bad point. Resending good points is harmless: a point
// written twice with the same series and time is stored once.
import { RejectedLine } from './backend';

/** What a request answered: written, or refused for the points in it. */
export type PostResult = { ok: true } | { ok: false; reason: string };

/**
 * Writes `lines` (already refused as a whole with `reason`) by halves, in
 * order; returns the lines refused on their own. A retryable failure thrown
 * by `post` propagates, and the caller retries the whole batch later.
 */
export async function isolateBadLines(
  lines: string[],
  reason: string,
  post: (lines: string[]) => Promise<PostResult>,
): Promise<RejectedLine[]> {
  if (lines.length === 1) return [{ line: lines[0], reason }];
  const rejected: RejectedLine[] = [];
  const mid = Math.ceil(lines.length / 2);
  for (const half of [lines.slice(0, mid), lines.slice(mid)]) {
    if (half.length === 0) continue;
    const result = await post(half);
    if (!result.ok) rejected.push(...(await isolateBadLines(half, result.reason, post)));
  }
  return rejected;
}
