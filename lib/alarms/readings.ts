// What the alarm engine accepts, turned into facts: a plain value or a JSON
// object with the topic or `msg.segments` (MQTT, topics.md), an EOT READING
// frame as `eot-in` delivers it, or a `device-watchdog` event. Anything else
// is named as ignored with a reason (counted, never thrown).
import type { Facts } from './compile';

export type IgnoredReason = 'no-value' | 'not-numeric' | 'no-kind' | 'command';

export interface Reading {
  facts: Facts;
}

export type ReadingOrIgnored = { reading: Reading } | { ignored: IgnoredReason };

/** The message fields the engine reads. */
export interface ReadingMessage {
  payload?: unknown;
  topic?: unknown;
  segments?: unknown;
}

const WATCHDOG_STATES = new Set(['online', 'outdated', 'back']);

function numeric(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function timestamp(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string' || value === '') return undefined;
  if (/^[0-9]+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Where a reading comes from. */
interface Place {
  kind?: string;
  location?: string;
  site?: string;
  outdoor?: boolean;
  building?: string;
  room?: string;
  command?: boolean;
}

/** Where a base topic is (topics.md): site, outdoors or not, building and room. */
export function placeOf(base: string, defaultSite: string): Place {
  let levels = base.split('/');
  let site = defaultSite;
  if (levels[0] === 'abroad' && levels.length > 1) {
    site = levels[1];
    levels = levels.slice(2);
  }
  const outdoor = levels[0] === 'outside';
  return {
    site,
    outdoor,
    building: outdoor ? undefined : levels[0],
    room: outdoor ? undefined : levels[1],
  };
}

function fromSegments(segments: Record<string, unknown>, defaultSite: string): Place {
  const levels = Array.isArray(segments.location)
    ? (segments.location as unknown[]).map(String)
    : typeof segments.location === 'string'
      ? segments.location.split('/').filter((l) => l !== '')
      : [];
  const site = str(segments.site) ?? defaultSite;
  const outdoor = segments.outdoor === true;
  const place = [
    ...(site !== defaultSite ? ['abroad', site] : []),
    ...(outdoor ? ['outside'] : []),
  ];
  const base = str(segments.base) ?? [...place, ...levels].join('/');
  return {
    kind: str(segments.kind),
    location: base || undefined,
    site,
    outdoor,
    building: str(segments.building),
    room: str(segments.room),
    command: segments.command === true,
  };
}

/** Topics repeat: each is parsed once (per default site); the result is shared, never changed. */
const topicCache = new Map<string, Place>();
const TOPIC_CACHE_LIMIT = 50_000;

function fromTopic(topic: string, defaultSite: string): Place {
  const key = `${defaultSite}\u0000${topic}`;
  const known = topicCache.get(key);
  if (known) return known;
  const levels = topic.split('/');
  const command = levels[levels.length - 1] === 'command';
  if (command) levels.pop();
  const kind = levels.pop();
  const location = levels.join('/');
  const parsed: Place = location
    ? { kind, location, command, ...placeOf(location, defaultSite) }
    : { kind, command };
  if (topicCache.size >= TOPIC_CACHE_LIMIT) topicCache.clear();
  topicCache.set(key, parsed);
  return parsed;
}

const NOWHERE: Place = {};

/** Facts from a message, or why it is ignored. Device fields are added later (facts.ts). */
export function readingFrom(msg: ReadingMessage, defaultSite: string): ReadingOrIgnored {
  const payload = msg.payload;
  const object =
    payload !== null && typeof payload === 'object' && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : undefined;

  // An EOT READING frame: fields are sensor, value, unit, ts.
  if (object?.type === 'READING' && Array.isArray(object.fields)) {
    const [sensor, raw, unit, ts] = object.fields as unknown[];
    const kind = str(sensor);
    if (!kind) return { ignored: 'no-kind' };
    if (raw === undefined || raw === '') return { ignored: 'no-value' };
    const value = numeric(raw);
    if (value === undefined) return { ignored: 'not-numeric' };
    const deviceId = str(object.origin);
    return reading({
      value,
      kind,
      unit: str(unit),
      ts: timestamp(ts),
      deviceId,
      customerId: str(object.customer),
      payload: object,
    });
  }

  // A device-watchdog event: {deviceId, state, lastSeen}.
  if (object && str(object.deviceId) && WATCHDOG_STATES.has(object.state as string)) {
    return reading({
      kind: 'device',
      state: object.state,
      lastSeen: numeric(object.lastSeen),
      deviceId: object.deviceId,
      payload: object,
    });
  }

  // MQTT-style: the value, or {value, value_units, ...}, with the topic or segments.
  const where: Place =
    msg.segments !== null && typeof msg.segments === 'object'
      ? fromSegments(msg.segments as Record<string, unknown>, defaultSite)
      : typeof msg.topic === 'string' && msg.topic.includes('/')
        ? fromTopic(msg.topic, defaultSite)
        : NOWHERE;
  if (where.command) return { ignored: 'command' };
  const kind = str(object?.kind) ?? where.kind;
  if (!kind) return { ignored: 'no-kind' };
  const raw = object ? object.value : payload;
  if (raw === undefined || raw === null || raw === '') return { ignored: 'no-value' };
  const value = numeric(raw);
  if (value === undefined) return { ignored: 'not-numeric' };
  const location = str(object?.location) ?? where.location;
  const place =
    location === where.location && where.site !== undefined
      ? where
      : location
        ? placeOf(location, defaultSite)
        : NOWHERE;
  // One shape for every MQTT reading (the engine's checks stay fast on it).
  return reading({
    value,
    kind,
    location,
    site: place.site,
    outdoor: place.outdoor,
    building: place.building,
    room: place.room,
    unit: str(object?.value_units) ?? str(object?.unit),
    ts: object ? timestamp(object.ts) : undefined,
    deviceId: str(object?.deviceId),
    topic: typeof msg.topic === 'string' ? msg.topic : undefined,
    payload: object ?? payload,
  });
}

function reading(facts: Facts): ReadingOrIgnored {
  return { reading: { facts } };
}
