// Readings as messages carry them, turned into points and line protocol:
// msg.payload (a number, an object of fields, or an array of points), tags
// from the node, msg.segments (topics.md) and msg.deviceId, the measurement
// from the node or the message. Each bad point is refused with its reason;
// the good points of the same message are still written.
import { FieldTyping } from './field-types';
import { nanoseconds } from './line-protocol';
import { NameText, sortKeys } from './names';
import { describe, PointError, pointTime, Precision } from './point';

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
  errors: readonly string[];
}

/** Topic segments that become tags (topics.md: site, building, room, kind). */
const SEGMENT_TAGS: readonly string[] = ['site', 'building', 'room', 'kind'];
/** sensOCampus sensor payload keys kept as tags rather than fields. */
const PAYLOAD_TAGS: Record<string, string> = {
  value_units: 'unit',
  unitID: 'unitID',
  subID: 'subID',
};

export function convertMessage(msg: ReadingMessage, options: ReadingOptions): Converted {
  return new ReadingConverter(options).convert(msg, options.now);
}

/**
 * Converts the messages of one node. Each line is built once, as text, with
 * no intermediate point objects; names are checked and escaped once (see
 * NameText), and a message's tags are encoded once for all its points.
 */
export class ReadingConverter {
  private readonly nodeTags: Record<string, string>;
  /** Every tag key a message without msg.tags can have, sorted. */
  private readonly tagOrder: string[];
  private readonly names = new NameText();
  private lastMeasurement?: string;
  private lastTags?: string;
  private lastPrefix = '';

  constructor(private readonly options: Omit<ReadingOptions, 'now'>) {
    this.nodeTags = options.tags ?? {};
    this.names.tags(this.nodeTags); // checks them once
    this.tagOrder = sortKeys([
      ...new Set([...Object.keys(this.nodeTags), ...SEGMENT_TAGS, 'location', 'device']),
    ]);
  }

  convert(msg: ReadingMessage, now: number): Converted {
    const lines: string[] = [];
    let errors: string[] | undefined;
    const { maxFutureMs } = this.options;
    let tagText: string;
    let defaultTime: number;
    try {
      tagText = this.messageTagText(msg);
      defaultTime =
        msg.timestamp !== undefined || msg.time !== undefined
          ? pointTime(msg.timestamp ?? msg.time, now, maxFutureMs)
          : now;
    } catch (err) {
      if (!(err instanceof PointError)) throw err;
      return { lines, errors: [err.message] };
    }
    const measurement =
      this.options.measurement ||
      (typeof msg.measurement === 'string' ? msg.measurement : undefined) ||
      segmentKind(msg.segments);
    const payload = msg.payload;
    if (!Array.isArray(payload)) {
      try {
        // A list of exactly one (`push` would reserve room for 17).
        return {
          lines: [this.line(payload, measurement, msg, tagText, defaultTime, now)],
          errors: NO_ERRORS,
        };
      } catch (err) {
        if (!(err instanceof PointError)) throw err;
        return { lines, errors: [err.message] };
      }
    }
    if (payload.length === 0) return { lines, errors: ['the payload is an empty array'] };
    for (let index = 0; index < payload.length; index++) {
      try {
        lines.push(this.line(payload[index], measurement, msg, tagText, defaultTime, now));
      } catch (err) {
        if (!(err instanceof PointError)) throw err;
        (errors ??= []).push(`point ${index}: ${err.message}`);
      }
    }
    return { lines, errors: errors ?? NO_ERRORS };
  }

  /** One point of a message as a line, or a PointError. */
  private line(
    item: unknown,
    msgMeasurement: string | undefined,
    msg: ReadingMessage,
    tagText: string,
    defaultTime: number,
    now: number,
  ): string {
    const { typing, precision, maxFutureMs } = this.options;
    if (item === undefined || item === null) throw new PointError('the payload is empty');
    if (typeof item !== 'object') {
      // A bare reading: one field named value.
      if (!msgMeasurement) throw noMeasurement();
      return (
        this.prefix(msgMeasurement, tagText) +
        typing.encode(msgMeasurement, 'value', item) +
        ' ' +
        nanoseconds(defaultTime, precision)
      );
    }
    if (!isPlainObject(item))
      throw new PointError(`the payload is ${describe(item)}, not a reading`);
    const object = item as Record<string, unknown>;
    const measurement =
      typeof object.measurement === 'string' && object.measurement
        ? object.measurement
        : msgMeasurement;
    const rawTime = object.time ?? object.timestamp;
    const time = rawTime === undefined ? defaultTime : pointTime(rawTime, now, maxFutureMs);
    if (!measurement) throw noMeasurement();

    let fields = '';
    let extraTags: Record<string, string> | undefined;
    if (isPlainObject(object.fields)) {
      const given = object.fields as Record<string, unknown>;
      for (const name in given) {
        if (Object.hasOwn(given, name)) fields = this.field(fields, measurement, name, given[name]);
      }
      if (object.tags !== undefined) extraTags = tagObject(object.tags);
    } else {
      for (const key in object) {
        if (!Object.hasOwn(object, key)) continue;
        if (key === 'time' || key === 'timestamp' || key === 'measurement') continue;
        const value = object[key];
        if (key in PAYLOAD_TAGS && typeof value === 'string') {
          if (value !== '') (extraTags ??= {})[PAYLOAD_TAGS[key]] = value;
        } else if (key === 'value' && Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            fields = this.field(fields, measurement, `value_${i}`, value[i]);
          }
        } else fields = this.field(fields, measurement, key, value);
      }
    }
    if (fields === '') throw new PointError(`the point of ${measurement} has no fields`);
    const pointTags = extraTags
      ? this.names.tags({ ...this.messageTags(msg), ...extraTags })
      : tagText;
    return this.prefix(measurement, pointTags) + fields + ' ' + nanoseconds(time, precision);
  }

  /** `measurement,tags ` as the line starts; the last one is kept, as the
   *  points of a message (and often the next message) share it. */
  private prefix(measurement: string, tagText: string): string {
    if (measurement !== this.lastMeasurement || tagText !== this.lastTags) {
      this.lastPrefix = this.names.measurement(measurement) + tagText + ' ';
      this.lastMeasurement = measurement;
      this.lastTags = tagText;
    }
    return this.lastPrefix;
  }

  /** `fields` with one more field appended. */
  private field(fields: string, measurement: string, name: string, raw: unknown): string {
    if (raw === undefined || raw === null) throw new PointError(`field ${name} has no value`);
    const text = this.options.typing.encode(measurement, name, raw);
    return fields === '' ? text : fields + ',' + text;
  }

  /**
   * The message's tags as text: the node's, overridden by msg.segments,
   * then msg.deviceId, then msg.tags. Without msg.tags the keys are known in
   * advance, so no tag object is built.
   */
  private messageTagText(msg: ReadingMessage): string {
    if (msg.tags !== undefined) return this.names.tags(this.messageTags(msg));
    const segments = isPlainObject(msg.segments)
      ? (msg.segments as Record<string, unknown>)
      : undefined;
    const device = deviceTag(msg.deviceId);
    let text = '';
    for (const key of this.tagOrder) {
      let value: string | undefined;
      if (key === 'device') value = device;
      else if (key === 'location') value = locationTag(segments);
      else if (segments && SEGMENT_TAGS.includes(key)) {
        const segment = segments[key];
        if (typeof segment === 'string' && segment !== '') value = segment;
      }
      value ??= this.nodeTags[key];
      if (value !== undefined) text += this.names.tag(key, value);
    }
    return text;
  }

  /** The message's tags as an object (the same precedence as messageTagText). */
  private messageTags(msg: ReadingMessage): Record<string, string> {
    const tags: Record<string, string> = { ...this.nodeTags };
    if (isPlainObject(msg.segments)) {
      const segments = msg.segments as Record<string, unknown>;
      for (const key of SEGMENT_TAGS) {
        const value = segments[key];
        if (typeof value === 'string' && value !== '') tags[key] = value;
      }
      const location = locationTag(segments);
      if (location !== undefined) tags.location = location;
    }
    const device = deviceTag(msg.deviceId);
    if (device !== undefined) tags.device = device;
    if (msg.tags !== undefined) Object.assign(tags, tagObject(msg.tags));
    return tags;
  }
}

/** A shared empty list, so a message without errors allocates none. */
const NO_ERRORS: readonly string[] = Object.freeze([]);

function noMeasurement(): PointError {
  return new PointError('no measurement: set one on the node, or msg.measurement');
}

function deviceTag(deviceId: unknown): string | undefined {
  if (deviceId === undefined || deviceId === null || deviceId === '') return undefined;
  if (typeof deviceId === 'string') return deviceId;
  if (typeof deviceId === 'number') return String(deviceId);
  throw new PointError(`msg.deviceId is ${describe(deviceId)}, not a string`);
}

/** segments.location (topics.md: the path of the place) as one tag value. */
function locationTag(segments: Record<string, unknown> | undefined): string | undefined {
  const location = segments?.location;
  return Array.isArray(location) && location.length > 0
    ? location.map(String).join('/')
    : undefined;
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
