// Durations and the automatic interval of aggregated queries: the smallest
// "nice" bucket width (1 s, 5 min, 1 h, 1 d, …) that keeps a time range
// within a number of points. Buckets are aligned on the epoch, as InfluxDB's
// GROUP BY time() buckets are, so a range may touch one bucket more than its
// length suggests; the choice accounts for that.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;

const NICE = [
  ...[1, 2, 5, 10, 20, 50, 100, 200, 500],
  ...[1, 2, 5, 10, 15, 30].map((n) => n * SECOND),
  ...[1, 2, 5, 10, 15, 30].map((n) => n * MINUTE),
  ...[1, 2, 3, 6, 12].map((n) => n * HOUR),
  ...[1, 2, 7, 14, 30, 60, 90, 180, 365].map((n) => n * DAY),
];

/** Buckets of width `intervalMs` that [from, to) touches. */
export function bucketCount(from: number, to: number, intervalMs: number): number {
  if (to <= from) return 0;
  return Math.floor((to - 1) / intervalMs) - Math.floor(from / intervalMs) + 1;
}

/**
 * The interval for [from, to): `wanted` when it keeps to `maxPoints` buckets,
 * else the smallest nice interval that does. maxPoints is at least 2.
 */
export function chooseInterval(
  from: number,
  to: number,
  maxPoints: number,
  wanted?: number,
): number {
  // width ≥ span/(n-1) gives at most n buckets, however they are aligned.
  const least = Math.max(1, Math.ceil((to - from) / (maxPoints - 1)));
  if (wanted !== undefined && wanted >= least) return wanted;
  const nice = NICE.find((n) => n >= least);
  const interval = nice ?? Math.ceil(least / YEAR) * YEAR;
  return wanted !== undefined && wanted > interval ? wanted : interval;
}

const UNITS: Record<string, number> = {
  ms: 1,
  s: SECOND,
  m: MINUTE,
  h: HOUR,
  d: DAY,
  w: 7 * DAY,
};

/** A duration such as `500ms`, `30s`, `15m`, `24h`, `7d`, `2w` (or `1h30m`) in ms. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (!/^(\d+(ms|s|m|h|d|w))+$/.test(trimmed)) {
    throw new Error(`"${text}" is not a duration such as 30s, 15m, 24h or 7d`);
  }
  let ms = 0;
  for (const [, n, unit] of trimmed.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) ms += Number(n) * UNITS[unit];
  return ms;
}
