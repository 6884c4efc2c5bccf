// Readings as messages carry them, turned into points and line protocol:
// msg.payload (a number, an object of fields, or an array of points), tags
// from the node, msg.segments (topics.md) and msg.deviceId, the measurement
// from the node or the message. Each bad point is refused with its reason;
// the good points of the same message are still written.
import { FieldTyping } from './field-types';
import { checkPoint, encodePoint } from './line-protocol';
import { describe, Point, PointError, pointTime, Precision, TypedField } from './point';

export interface ReadingOptions {
  /** The node's measurement; wins over msg.measurement. */
  measurement?: string;
  /** The node's own tags; the message's tags override them. */
  tags?: Record<string, string>;
  typing: FieldTyping;
  precision: Precision;
  now: number;
  /** How far ahead of now a time may be (device clocks drift). */
  maxFutureMs: number;
}

export interface ReadingMessage {
  payload?: unknown;
  measurement?: unknown;
  segments?: unknown;
  deviceId?: unknown;
  tags?: unknown;
  timestamp?: unknown;
  time?: unknown;
}

export interface Converted {
  /** One line per good point. */
  lines: string[];
  /** One reason per refused point (prefixed with its index for arrays). */
  errors: string[];
}

/** Topic segments that become tags (topics.md: site, building, room, kind). */
const SEGMENT_TAGS = ['site', 'building', 'room', 'kind'] as const;
/** sensOCampus sensor payload keys kept as tags rather than fields. */
const PAYLOAD_TAGS: Record<string, string> = {
  value_units: 'unit',
  unitID: 'unitID',
  subID: 'subID',
};

export function convertMessage(msg: ReadingMessage, options: ReadingOptions): Converted {
  const lines: string[] = [];
  const errors: string[] = [];
  let baseTags: Record<string, string>;
  let defaultTime: number;
  try {
    baseTags = messageTags(msg, options.tags ?? {});
    defaultTime =
      msg.timestamp !== undefined || msg.time !== undefined
        ? pointTime(msg.timestamp ?? msg.time, options.now, options.maxFutureMs)
        : options.now;
  } catch (err) {
    return { lines, errors: [(err as Error).message] };
  }
  const measurement =
    options.measurement ||
    (typeof msg.measurement === 'string' ? msg.measurement : undefined) ||
    segmentKind(msg.segments);

  const payload = msg.payload;
  const items = Array.isArray(payload) ? payload : [payload];
  if (items.length === 0) return { lines, errors: ['the payload is an empty array'] };
  items.forEach((item, index) => {
    try {
      const point = toPoint(item, measurement, baseTags, defaultTime, options);
      checkPoint(point);
      lines.push(encodePoint(point, options.precision));
    } catch (err) {
      if (!(err instanceof PointError)) throw err;
      errors.push(Array.isArray(payload) ? `point ${index}: ${err.message}` : err.message);
    }
  });
  return { lines, errors };
}

function toPoint(
  item: unknown,
  msgMeasurement: string | undefined,
  baseTags: Record<string, string>,
  defaultTime: number,
  options: ReadingOptions,
): Point {
  let measurement = msgMeasurement;
  let tags = baseTags;
  let time = defaultTime;
  let rawFields: Record<string, unknown>;

  if (isPlainObject(item)) {
    const object = item as Record<string, unknown>;
    const structured = isPlainObject(object.fields);
    if (typeof object.measurement === 'string' && object.measurement) {
      measurement = object.measurement;
    }
    const rawTime = object.time ?? object.timestamp;
    if (rawTime !== undefined) time = pointTime(rawTime, options.now, options.maxFutureMs);
    if (structured) {
      rawFields = object.fields as Record<string, unknown>;
      if (object.tags !== undefined) tags = { ...baseTags, ...tagObject(object.tags) };
    } else {
      rawFields = {};
      const extraTags: Record<string, string> = {};
      for (const [key, value] of Object.entries(object)) {
        if (key === 'time' || key === 'timestamp' || key === 'measurement') continue;
        if (key in PAYLOAD_TAGS && typeof value === 'string') {
          if (value !== '') extraTags[PAYLOAD_TAGS[key]] = value;
        } else if (key === 'value' && Array.isArray(value)) {
          value.forEach((v, i) => (rawFields[`value_${i}`] = v));
        } else rawFields[key] = value;
      }
      if (Object.keys(extraTags).length > 0) tags = { ...baseTags, ...extraTags };
    }
  } else if (item === undefined || item === null) {
    throw new PointError('the payload is empty');
  } else if (typeof item === 'object') {
    throw new PointError(`the payload is ${describe(item)}, not a reading`);
  } else {
    rawFields = { value: item };
  }

  if (!measurement) {
    throw new PointError('no measurement: set one on the node, or msg.measurement');
  }
  const fields: Record<string, TypedField> = {};
  let count = 0;
  for (const [name, raw] of Object.entries(rawFields)) {
    if (raw === undefined || raw === null) throw new PointError(`field ${name} has no value`);
    fields[name] = options.typing.field(measurement, name, raw);
    count += 1;
  }
  if (count === 0) throw new PointError(`the point of ${measurement} has no fields`);
  return { measurement, tags, fields, time };
}

/** Tags of the whole message: the node's, then segments, deviceId, msg.tags. */
function messageTags(
  msg: ReadingMessage,
  nodeTags: Record<string, string>,
): Record<string, string> {
  const tags: Record<string, string> = { ...nodeTags };
  if (isPlainObject(msg.segments)) {
    const segments = msg.segments as Record<string, unknown>;
    for (const key of SEGMENT_TAGS) {
      const value = segments[key];
      if (typeof value === 'string' && value !== '') tags[key] = value;
    }
    if (Array.isArray(segments.location) && segments.location.length > 0) {
      tags.location = segments.location.map(String).join('/');
    }
  }
  if (msg.deviceId !== undefined && msg.deviceId !== null && msg.deviceId !== '') {
    if (typeof msg.deviceId !== 'string' && typeof msg.deviceId !== 'number') {
      throw new PointError(`msg.deviceId is ${describe(msg.deviceId)}, not a string`);
    }
    tags.device = String(msg.deviceId);
  }
  if (msg.tags !== undefined) Object.assign(tags, tagObject(msg.tags));
  return tags;
}

/** Tags from an object: scalars become text; empty values are left out. */
export function tagObject(raw: unknown): Record<string, string> {
  if (!isPlainObject(raw)) throw new PointError(`tags must be an object, not ${describe(raw)}`);
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new PointError(`tag ${key} is ${describe(value)}, not text`);
    }
    tags[key] = String(value);
  }
  return tags;
}

function segmentKind(segments: unknown): string | undefined {
  if (!isPlainObject(segments)) return undefined;
  const kind = (segments as Record<string, unknown>).kind;
  return typeof kind === 'string' && kind !== '' ? kind : undefined;
}

function isPlainObject(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
  );
}
