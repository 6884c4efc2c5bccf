// Helpers for history tests: line batches, raw InfluxQL against a real
// InfluxDB, and fresh database names.
import { LineBatch } from '../../lib/history/backend';

let counter = 0;

export function databaseName(prefix: string): string {
  return `${prefix}_${process.pid}_${++counter}`;
}

export function batchOf(lines: string[]): LineBatch {
  const body = Buffer.from(lines.join('\n') + '\n');
  return { body, count: lines.length, lines: () => lines };
}

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** Runs InfluxQL; returns the first statement's series (throws on an error). */
export async function influxQl(url: string, db: string, q: string): Promise<InfluxSeries[]> {
  const res = await fetch(`${url}/query?${new URLSearchParams({ db, q, epoch: 'ms' })}`, {
    method: 'POST',
  });
  const body = (await res.json()) as {
    results?: Array<{ error?: string; series?: InfluxSeries[] }>;
    error?: string;
  };
  const error = body.error ?? body.results?.[0]?.error;
  if (error) throw new Error(`InfluxQL ${q}: ${error}`);
  return body.results?.[0]?.series ?? [];
}

/** Number of points of `measurement` (over field `value`). */
export async function countPoints(url: string, db: string, measurement: string): Promise<number> {
  const series = await influxQl(url, db, `SELECT count("value") FROM "${measurement}"`);
  return (series[0]?.values[0]?.[1] as number | undefined) ?? 0;
}

/** Raw line protocol straight to InfluxDB (for setting up conflicts). */
export async function postLines(url: string, db: string, lines: string[]): Promise<number> {
  const res = await fetch(`${url}/write?db=${db}&precision=n`, {
    method: 'POST',
    body: lines.join('\n'),
  });
  await res.text();
  return res.status;
}
