// What a dashboard user may do: the devices, locations and alarms a message
// from a dashboard names must all belong to the user's customer, and actions
// need an operator. Checked on the server, against the registry and the
// alarm book, whatever the browser sent.
import type { DashboardIdentity } from './sessions';

export interface AccessLookups {
  /** The customer of a device, or null when there is no such device. */
  customerOfDevice(id: string): Promise<string | null>;
  /** The customers of the devices at a base topic (empty when none). */
  customersAt(base: string): Promise<string[]>;
  /** The customer of an alarm (null for none), or undefined when there is no such alarm. */
  customerOfAlarm(id: string): Promise<string | null | undefined>;
}

export interface Subjects {
  devices: string[];
  locations: string[];
  alarms: string[];
}

const text = (v: unknown): v is string => typeof v === 'string' && v !== '';
const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The devices, locations and alarms a message names, in the shapes the
 * Sensflow nodes take: `msg.deviceId`, `msg.target` ({deviceId} or {base}),
 * and in the payload `deviceId`, `destination` (eot-out), `dest` (an
 * actuator-command unit) and `alarmId`.
 */
export function subjectsOf(msg: Record<string, unknown>): Subjects {
  const devices = new Set<string>();
  const locations = new Set<string>();
  const alarms = new Set<string>();
  if (text(msg.deviceId)) devices.add(msg.deviceId);
  if (isObject(msg.target)) {
    if (text(msg.target.deviceId)) devices.add(msg.target.deviceId);
    if (text(msg.target.base)) locations.add(msg.target.base);
  }
  const p = payloadObject(msg.payload);
  if (p) {
    if (text(p.deviceId)) devices.add(p.deviceId);
    if (text(p.destination) && p.destination !== '*') devices.add(p.destination);
    if (text(p.dest) && p.dest !== 'all') devices.add(p.dest);
    if (text(p.alarmId)) alarms.add(p.alarmId);
    // alarm-control also takes the alarm as `id`.
    if (text(p.action) && text(p.id)) alarms.add(p.id);
  }
  return { devices: [...devices], locations: [...locations], alarms: [...alarms] };
}

/** An object payload, or one sent as JSON text (actuator-command takes both). */
function payloadObject(payload: unknown): Record<string, unknown> | undefined {
  if (isObject(payload)) return payload;
  if (typeof payload !== 'string' || !payload.trimStart().startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(payload);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Null when the user may go ahead, else why not (said to the user). */
export async function refusal(
  identity: DashboardIdentity,
  subjects: Subjects,
  lookups: AccessLookups,
  options: { operate: boolean },
): Promise<string | null> {
  if (options.operate && identity.role !== 'operator')
    return `${identity.username} may only watch (viewer)`;
  const own = identity.customerId;
  if (own === null) return null;
  for (const id of subjects.devices) {
    const customer = await lookups.customerOfDevice(id);
    if (customer === null) return `no device ${id}`;
    if (customer !== own) return `device ${id} belongs to another customer`;
  }
  for (const base of subjects.locations) {
    const customers = await lookups.customersAt(base);
    if (customers.length === 0) return `no device at ${base}`;
    if (customers.some((c) => c !== own)) return `${base} has devices of another customer`;
  }
  for (const id of subjects.alarms) {
    const customer = await lookups.customerOfAlarm(id);
    if (customer === undefined) return `no alarm ${id}`;
    if (customer !== own) return `alarm ${id} belongs to another customer`;
  }
  return null;
}

/**
 * Writes the user into the message, over whatever the browser sent: always
 * `msg.user` (and `payload.user`, alarm-control's actor); for a user of one
 * customer also `msg.customerId`, and in an object payload `customer`
 * (eot-out) and `customerId` (alarm-control's list filter).
 */
export function stampUser(msg: Record<string, unknown>, identity: DashboardIdentity): void {
  msg.user = identity.username;
  const p = msg.payload;
  if (isObject(p)) p.user = identity.username;
  if (identity.customerId === null) {
    delete msg.customerId;
    return;
  }
  msg.customerId = identity.customerId;
  if (isObject(p)) {
    p.customer = identity.customerId;
    p.customerId = identity.customerId;
  }
}
