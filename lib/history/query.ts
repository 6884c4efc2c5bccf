// History queries as nodes ask for them, checked and planned (the interval
// chosen so no series exceeds maxPoints), and their results in the shape
// Dashboard 2.0's ui-chart plots: `[{x, y, series}]`.
import { AGGREGATIONS, Aggregation, Series, SeriesQuery } from './backend';
import { chooseInterval, parseDuration } from './interval';
import { tagObject } from './readings';

export const DEFAULT_MAX_POINTS = 1000;

export interface HistoryRequest {
  measurement?: unknown;
  field?: unknown;
  tags?: unknown;
  groupBy?: unknown;
  /** Epoch ms, Date or ISO 8601; or a duration before `to` (e.g. `24h`). */
  from?: unknown;
  /** Epoch ms, Date or ISO 8601; now when unset. */
  to?: unknown;
  aggregation?: unknown;
  /** A duration (`5m`) or ms; widened when it would exceed maxPoints. */
  interval?: unknown;
  maxPoints?: unknown;
  retentionPolicy?: unknown;
}

export class QueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryError';
  }
}

export function planQuery(request: HistoryRequest, now: number): SeriesQuery {
  const measurement = text(request.measurement, 'measurement');
  if (!measurement) throw new QueryError('no measurement to query');
  const field = text(request.field, 'field') || 'value';
  const aggregation = (text(request.aggregation, 'aggregation') || 'mean') as Aggregation;
  if (!AGGREGATIONS.includes(aggregation)) {
    throw new QueryError(
      `aggregation must be one of ${AGGREGATIONS.join(', ')}, not ${aggregation}`,
    );
  }
  const to = request.to === undefined || request.to === '' ? now : time(request.to, 'to');
  let from: number;
  if (typeof request.from === 'string' && /^\d+(ms|s|m|h|d|w)/.test(request.from)) {
    from = to - duration(request.from, 'from');
  } else if (request.from === undefined || request.from === '') {
    from = to - 24 * 3600_000;
  } else from = time(request.from, 'from');
  if (!(from < to)) throw new QueryError('the range is empty: "from" must be before "to"');

  const maxPoints =
    request.maxPoints === undefined || request.maxPoints === ''
      ? DEFAULT_MAX_POINTS
      : Number(request.maxPoints);
  if (!Number.isInteger(maxPoints) || maxPoints < 2 || maxPoints > 100_000) {
    throw new QueryError('maxPoints must be a whole number from 2 to 100000');
  }
  let wanted: number | undefined;
  if (typeof request.interval === 'number') wanted = request.interval;
  else if (
    typeof request.interval === 'string' &&
    request.interval !== '' &&
    request.interval !== 'auto'
  ) {
    wanted = duration(request.interval, 'interval');
  }
  if (wanted !== undefined && !(Number.isInteger(wanted) && wanted > 0)) {
    throw new QueryError('interval must be a positive duration');
  }

  let where: Record<string, string>;
  try {
    where = request.tags === undefined || request.tags === '' ? {} : tagObject(request.tags);
  } catch (err) {
    throw new QueryError((err as Error).message);
  }
  const groupBy = groupTags(request.groupBy);
  const retentionPolicy = text(request.retentionPolicy, 'retentionPolicy') || undefined;
  return {
    measurement,
    field,
    where,
    groupBy,
    from,
    to,
    aggregation,
    intervalMs: chooseInterval(from, to, maxPoints, wanted),
    retentionPolicy,
  };
}

export interface ChartPoint {
  x: number;
  y: number;
  series: string;
}

/** A name per series: the groupBy tag values, or the measurement (and field). */
export function seriesLabel(query: SeriesQuery, series: Series): string {
  const values = query.groupBy
    .map((t) => series.tags[t])
    .filter((v) => v !== undefined && v !== '');
  if (values.length > 0) return values.join(' ');
  return query.field === 'value' ? query.measurement : `${query.measurement}.${query.field}`;
}

/** Points for ui-chart (x: time, y: value, series: its name), in time order per series. */
export function chartPoints(query: SeriesQuery, result: Series[]): ChartPoint[] {
  const points: ChartPoint[] = [];
  for (const series of result) {
    const name = seriesLabel(query, series);
    for (const p of series.points) points.push({ x: p.time, y: p.value, series: name });
  }
  return points;
}

function text(value: unknown, name: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new QueryError(`${name} must be text`);
  return value.trim();
}

function duration(value: string, name: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new QueryError(`${name}: ${(err as Error).message}`);
  }
}

function time(value: unknown, name: string): number {
  let ms = NaN;
  if (typeof value === 'number') ms = value;
  else if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'string')
    ms = /^-?\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new QueryError(`${name} is not a time (epoch ms or ISO 8601)`);
  return ms;
}

function groupTags(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  const list = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(list) || !list.every((t) => typeof t === 'string')) {
    throw new QueryError('groupBy must be tag names (an array or a comma-separated list)');
  }
  return list.map((t: string) => t.trim()).filter((t) => t !== '');
}
