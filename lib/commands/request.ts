// An actuator-command input as a CommandRequest: `msg.payload` is `{order,
// dest}` (an object or its JSON text) or a plain order value, with the order,
// dest and target of the node's settings as defaults. Every field is checked
// here, before the registry is asked or anything is recorded.
import { kindProblem, TopicCodec } from '../topics/topic';
import { checkOrder } from './orders';
import { ALL_UNITS, CommandError, CommandRequest, CommandTarget } from './types';

export interface RequestDefaults {
  target?: Partial<{ base: string; kind: string; deviceId: string; actuator: string }>;
  order?: string;
  dest?: string;
}

export interface RequestInput {
  payload?: unknown;
  target?: unknown;
  idempotencyKey?: unknown;
}

const UNIT = /^[A-Za-z0-9_.:-]{1,64}$/;
const KEY = /^[\x20-\x7e]{1,191}$/;
const DEVICE_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

export function commandRequest(
  input: RequestInput,
  defaults: RequestDefaults,
  codec: TopicCodec,
): CommandRequest {
  let payload = input.payload;
  if (typeof payload === 'string' && /^\s*[{[]/.test(payload)) {
    try {
      payload = JSON.parse(payload);
    } catch (err) {
      throw new CommandError(`msg.payload is not valid JSON: ${(err as Error).message}`);
    }
  }
  let fields: Record<string, unknown>;
  if (typeof payload === 'object' && payload !== null && !Array.isArray(payload)) {
    fields = payload as Record<string, unknown>;
  } else if (payload === undefined || payload === null || payload === '') {
    fields = {};
  } else if (typeof payload === 'string' || typeof payload === 'number') {
    fields = { order: payload };
  } else {
    throw new CommandError(
      `msg.payload must be {order, dest}, an order name or a level, got ${Array.isArray(payload) ? 'an array' : typeof payload}`,
    );
  }
  const order = checkOrder(fields.order ?? defaults.order);
  const dest = checkDest(fields.dest ?? defaults.dest ?? ALL_UNITS);
  const key = fields.idempotencyKey ?? input.idempotencyKey;
  if (key !== undefined) checkIdempotencyKey(key);
  const request: CommandRequest = {
    target: checkTarget(input.target ?? defaults.target, codec, dest),
    order,
    dest,
  };
  // An EOT order goes to one device: the device is the unit that confirms.
  if (request.target.transport === 'eot') request.dest = request.target.deviceId;
  if (key !== undefined) request.idempotencyKey = key as string;
  return request;
}

export function checkIdempotencyKey(value: unknown): string {
  if (typeof value !== 'string' || !KEY.test(value)) {
    throw new CommandError('idempotencyKey must be 1-191 printable ASCII characters');
  }
  return value;
}

export function checkDest(value: unknown): string {
  if (typeof value !== 'string' || (value !== ALL_UNITS && !UNIT.test(value))) {
    throw new CommandError(`dest ${JSON.stringify(value)} must be "all" or a unit id`);
  }
  return value;
}

/** A base topic and kind (MQTT), or a device id and actuator (EOT). An EOT
 *  target without an actuator takes it from `dest` (the unit at the device, as
 *  alarm-rules actions give it). */
export function checkTarget(value: unknown, codec: TopicCodec, dest?: string): CommandTarget {
  if (typeof value !== 'object' || value === null) {
    throw new CommandError('no target: set a base topic and kind, or msg.target');
  }
  const t = value as Record<string, unknown>;
  if (t.deviceId !== undefined && t.deviceId !== '') {
    if (typeof t.deviceId !== 'string' || !DEVICE_ID.test(t.deviceId)) {
      throw new CommandError(`target device id ${JSON.stringify(t.deviceId)} is not a device id`);
    }
    const actuator = t.actuator ?? (dest !== ALL_UNITS ? dest : undefined);
    if (typeof actuator !== 'string' || !DEVICE_ID.test(actuator)) {
      throw new CommandError(
        'an EOT target names its actuator (target.actuator, or dest), e.g. led',
      );
    }
    return { transport: 'eot', deviceId: t.deviceId, actuator };
  }
  if (typeof t.base !== 'string' || t.base === '') {
    throw new CommandError('no target: set a base topic and kind, or msg.target');
  }
  try {
    codec.parseBase(t.base);
  } catch (err) {
    throw new CommandError(`target ${(err as Error).message}`);
  }
  const problem = kindProblem(t.kind);
  if (problem) throw new CommandError(`target ${problem}`);
  return { transport: 'mqtt', base: t.base, kind: t.kind as string };
}
