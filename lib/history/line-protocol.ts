// InfluxDB 1.x line protocol: escaping, encoding a Point into one line, and
// parsing our own lines back (the embedded backend stores what the spool
// holds, and the tests check the round trip). Lines always carry nanosecond
// times, whatever the precision, so a spool outlives a change of precision.
import { Point, PointError, Precision, TypedField } from './point';

// Each escaper tests with a plain regex first: most names need no escaping,
// and replace() with a global regex is the slow path.
const MEASUREMENT_SPECIAL = /[, ]/;
const KEY_SPECIAL = /[,= ]/;
const STRING_SPECIAL = /["\\]/;

export function escapeMeasurement(name: string): string {
  return MEASUREMENT_SPECIAL.test(name) ? name.replace(/[, ]/g, '\\$&') : name;
}

/** Tag keys, tag values and field keys. */
export function escapeKey(name: string): string {
  return KEY_SPECIAL.test(name) ? name.replace(/[,= ]/g, '\\$&') : name;
}

export function quoteString(value: string): string {
  return '"' + (STRING_SPECIAL.test(value) ? value.replace(/["\\]/g, '\\$&') : value) + '"';
}

/**
 * Refuses names line protocol cannot carry faithfully: InfluxDB 1.x has no
 * escape for line breaks, reads a backslash before a special character as an
 * escape (so a name with one cannot round-trip), skips lines starting with
 * `#` as comments, and rejects `time` as a key.
 */
export function checkName(what: string, name: string): void {
  if (name.length === 0) throw new PointError(`${what} is empty`);
  if (/[\r\n]/.test(name))
    throw new PointError(`${what} ${JSON.stringify(name)} contains a line break`);
  if (name.includes('\\'))
    throw new PointError(`${what} ${JSON.stringify(name)} contains a backslash`);
  if (name.length > 32_768) throw new PointError(`${what} is longer than 32768 characters`);
}

function checkKey(what: string, name: string): void {
  checkName(what, name);
  if (name === 'time') throw new PointError(`${what} "time" is reserved by InfluxDB`);
}

/** A time in ms rounded down to `precision`, as decimal nanoseconds. */
export function nanoseconds(ms: number, precision: Precision): string {
  let digits: number;
  let zeros: string;
  switch (precision) {
    case 'h':
      digits = Math.floor(ms / 3_600_000) * 3_600_000;
      zeros = '000000';
      break;
    case 'm':
      digits = Math.floor(ms / 60_000) * 60_000;
      zeros = '000000';
      break;
    case 's':
      digits = Math.floor(ms / 1000) * 1000;
      zeros = '000000';
      break;
    case 'ms':
      digits = Math.floor(ms);
      zeros = '000000';
      break;
    default:
      // A JS number holds microseconds exactly for any date InfluxDB stores
      // today; nanoseconds would exceed 2^53, so 'n' keeps microseconds.
      digits = Math.floor(ms * 1000);
      zeros = '000';
  }
  return digits === 0 ? '0' : `${digits}${zeros}`;
}

export function encodeField(name: string, field: TypedField): string {
  const key = escapeKey(name);
  switch (field.type) {
    case 'float':
      return `${key}=${String(field.value)}`;
    case 'integer':
      return `${key}=${String(field.value)}i`;
    case 'boolean':
      return `${key}=${field.value ? 'true' : 'false'}`;
    case 'string':
      return `${key}=${quoteString(String(field.value))}`;
  }
}

/** One line of line protocol for a valid point (see checkPoint); tags sorted by key. */
export function encodePoint(point: Point, precision: Precision): string {
  let line = escapeMeasurement(point.measurement);
  const tagKeys = Object.keys(point.tags);
  if (tagKeys.length > 1) tagKeys.sort();
  for (const key of tagKeys) line += ',' + escapeKey(key) + '=' + escapeKey(point.tags[key]);
  let first = true;
  for (const name in point.fields) {
    line += (first ? ' ' : ',') + encodeField(name, point.fields[name]);
    first = false;
  }
  return line + ' ' + nanoseconds(point.time, precision);
}

/** Throws a PointError naming what line protocol cannot carry in `point`. */
export function checkPoint(point: Point): void {
  checkName('the measurement', point.measurement);
  if (point.measurement.startsWith('#')) {
    throw new PointError(`the measurement ${JSON.stringify(point.measurement)} starts with "#"`);
  }
  for (const key in point.tags) {
    checkKey('tag key', key);
    checkName(`tag ${key}`, point.tags[key]);
  }
  let count = 0;
  for (const name in point.fields) {
    checkKey('field key', name);
    const field = point.fields[name];
    if (field.type === 'string' && /[\r\n]/.test(String(field.value))) {
      throw new PointError(`string field ${name} contains a line break`);
    }
    count += 1;
  }
  if (count === 0) throw new PointError('the point has no fields');
}

// ---------------------------------------------------------------- parsing

export interface ParsedPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, TypedField>;
  /** Decimal nanoseconds, or undefined when the line has no time. */
  timeNs?: string;
}

/** Parses one line as encodePoint writes it; throws on anything else. */
export function parseLine(line: string): ParsedPoint {
  let i = 0;
  const fail = (why: string): never => {
    throw new PointError(`unparsable line at ${i}: ${why}`);
  };
  // Reads up to the first unescaped character of `stops`, unescaping.
  const scan = (stops: string): string => {
    let out = '';
    while (i < line.length && !stops.includes(line[i])) {
      if (line[i] === '\\' && i + 1 < line.length) i += 1;
      out += line[i];
      i += 1;
    }
    return out;
  };
  const measurement = scan(', ');
  if (!measurement) fail('no measurement');
  const tags: Record<string, string> = {};
  while (line[i] === ',') {
    i += 1;
    const key = scan('=, ');
    if (line[i] !== '=' || !key) fail('tag without "="');
    i += 1;
    const value = scan(', ');
    if (!value) fail(`tag ${key} has no value`);
    tags[key] = value;
  }
  if (line[i] !== ' ') fail('no fields');
  i += 1;
  const fields: Record<string, TypedField> = {};
  for (;;) {
    const key = scan('=, ');
    if (line[i] !== '=' || !key) fail('field without "="');
    i += 1;
    fields[key] = line[i] === '"' ? scanString() : typed(scan(', '));
    if (line[i] !== ',') break;
    i += 1;
  }
  let timeNs: string | undefined;
  if (line[i] === ' ') {
    i += 1;
    timeNs = line.slice(i);
    if (!/^-?\d+$/.test(timeNs)) fail('bad time');
  } else if (i < line.length) fail('garbage after fields');
  return { measurement, tags, fields, timeNs };

  function scanString(): TypedField {
    i += 1;
    let out = '';
    while (i < line.length && line[i] !== '"') {
      if (line[i] === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) i += 1;
      out += line[i];
      i += 1;
    }
    if (line[i] !== '"') fail('unterminated string');
    i += 1;
    return { type: 'string', value: out };
  }

  function typed(raw: string): TypedField {
    if (/^-?\d+i$/.test(raw)) return { type: 'integer', value: Number(raw.slice(0, -1)) };
    if (/^(t|T|true|True|TRUE)$/.test(raw)) return { type: 'boolean', value: true };
    if (/^(f|F|false|False|FALSE)$/.test(raw)) return { type: 'boolean', value: false };
    const value = Number(raw);
    if (raw === '' || !Number.isFinite(value)) fail(`bad field value ${JSON.stringify(raw)}`);
    return { type: 'float', value };
  }
}

/** The series a line belongs to: measurement and sorted tags, as text. */
export function seriesKey(point: Pick<ParsedPoint, 'measurement' | 'tags'>): string {
  let key = escapeMeasurement(point.measurement);
  for (const tag of Object.keys(point.tags).sort()) {
    key += ',' + escapeKey(tag) + '=' + escapeKey(point.tags[tag]);
  }
  return key;
}
