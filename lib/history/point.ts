// The point model of history: a measurement, tags, typed fields and a time,
// as InfluxDB 1.x sees a point. Everything that writes history builds these;
// line-protocol.ts turns them into text.

export type FieldType = 'float' | 'integer' | 'boolean' | 'string';
export const FIELD_TYPES: readonly FieldType[] = ['float', 'integer', 'boolean', 'string'];

export interface TypedField {
  type: FieldType;
  value: number | boolean | string;
}

export interface Point {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, TypedField>;
  /** Milliseconds since the epoch; a fraction carries microseconds. */
  time: number;
}

/** Time precisions of InfluxDB 1.x writes: a point's time is rounded down to one. */
export type Precision = 'n' | 'u' | 'ms' | 's' | 'm' | 'h';
export const PRECISIONS: readonly Precision[] = ['n', 'u', 'ms', 's', 'm', 'h'];

/** A point or message that cannot be written, with the reason in words. */
export class PointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PointError';
  }
}

// InfluxDB 1.x stores times as int64 nanoseconds: about 1677-09-21 to 2262-04-11.
const MIN_TIME_MS = -9_223_372_036_854;
const MAX_TIME_MS = 9_223_372_036_854;

/**
 * A point's time from what a message may carry: epoch milliseconds, a Date or
 * an ISO 8601 string. Refuses times InfluxDB cannot store and times more than
 * `maxFutureMs` ahead of `now` (a device with a wrong clock would otherwise
 * write into a shard years away, where no chart ever finds it).
 */
export function pointTime(raw: unknown, now: number, maxFutureMs: number): number {
  let ms: number;
  if (typeof raw === 'number') ms = raw;
  else if (raw instanceof Date) ms = raw.getTime();
  else if (typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}/.test(raw)) ms = Date.parse(raw);
  else throw new PointError(`time ${describe(raw)} is not epoch milliseconds, a Date or ISO 8601`);
  if (!Number.isFinite(ms)) throw new PointError(`time ${describe(raw)} is not a valid time`);
  if (ms < MIN_TIME_MS || ms > MAX_TIME_MS) {
    throw new PointError(`time ${describe(raw)} is outside what InfluxDB can store`);
  }
  if (ms > now + maxFutureMs) {
    throw new PointError(
      `time ${new Date(ms).toISOString()} is more than ${Math.round(maxFutureMs / 1000)} s in the future`,
    );
  }
  return ms;
}

/** A value as it may appear in an error message: short, never a whole object. */
export function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
