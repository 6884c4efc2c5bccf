// Devices as the Fleet page shows them: state (online, outdated, unknown,
// disabled), and the device's last status (any JSON object it published on
// `<base>/device`) reduced to a few labelled values that a person can read,
// chosen by a setting such as `firmware: Firmware, free_mem: Free memory`.
import type { DeviceInfo } from '../registry/directory';

export type DeviceState = 'online' | 'outdated' | 'unknown' | 'disabled';

export interface StatusField {
  /** A key of the status object; dots reach into nested objects (`mem.free`). */
  key: string;
  label: string;
}

export interface FleetRow {
  id: string;
  type: string;
  customerId: string;
  location: string;
  description: string;
  enabled: boolean;
  lastSeen: number | null;
  outdatedAfterMs: number;
  state: DeviceState;
  /** The last status, as labelled values. */
  summary: Array<{ label: string; value: string }>;
  lastStatus: unknown;
  /** The orders the device's type lists per kind, or null (any). */
  orders: Record<string, string[]> | null;
  /** `eot` when the device's configuration says so, else `mqtt`. */
  transport: 'mqtt' | 'eot';
}

export function deviceState(d: DeviceInfo, now: number): DeviceState {
  if (!d.enabled) return 'disabled';
  if (d.lastSeen === null) return 'unknown';
  return d.lastSeen + d.outdatedAfterMs >= now ? 'online' : 'outdated';
}

/** `key: Label, key2: Label 2` (a key alone is its own label); empty: none. */
export function parseStatusFields(spec: string): StatusField[] {
  const fields: StatusField[] = [];
  for (const part of spec.split(',')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const colon = trimmed.indexOf(':');
    const key = (colon < 0 ? trimmed : trimmed.slice(0, colon)).trim();
    const label = (colon < 0 ? key : trimmed.slice(colon + 1)).trim() || key;
    if (!/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/.test(key))
      throw new Error(`status field "${key}": use keys such as firmware or mem.free`);
    fields.push({ key, label });
  }
  return fields;
}

const MAX_DEFAULT_FIELDS = 6;
const MAX_VALUE_LENGTH = 80;

/** The status's values for `fields`, or its first few scalar keys without fields. */
export function statusSummary(
  status: unknown,
  fields: StatusField[],
): Array<{ label: string; value: string }> {
  if (status === null || typeof status !== 'object' || Array.isArray(status)) {
    return status === null || status === undefined
      ? []
      : [{ label: 'status', value: show(status) }];
  }
  const object = status as Record<string, unknown>;
  if (fields.length === 0) {
    return Object.entries(object)
      .filter(([, v]) => v === null || typeof v !== 'object')
      .slice(0, MAX_DEFAULT_FIELDS)
      .map(([label, v]) => ({ label, value: show(v) }));
  }
  const out: Array<{ label: string; value: string }> = [];
  for (const field of fields) {
    const value = field.key
      .split('.')
      .reduce<unknown>(
        (v, k) =>
          v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined,
        object,
      );
    if (value !== undefined) out.push({ label: field.label, value: show(value) });
  }
  return out;
}

function show(value: unknown): string {
  let shown: string;
  if (typeof value === 'number')
    shown = Number.isInteger(value) ? value.toLocaleString('en-US') : String(value);
  else if (typeof value === 'string') shown = value;
  else shown = JSON.stringify(value) ?? String(value);
  return shown.length > MAX_VALUE_LENGTH ? `${shown.slice(0, MAX_VALUE_LENGTH - 1)}…` : shown;
}

export function fleetRow(
  d: DeviceInfo,
  now: number,
  fields: StatusField[],
  orders: Record<string, string[]> | null,
): FleetRow {
  const config = d.config as { transport?: unknown } | null;
  return {
    id: d.id,
    type: d.type,
    customerId: d.customerId,
    location: d.location,
    description: d.description,
    enabled: d.enabled,
    lastSeen: d.lastSeen,
    outdatedAfterMs: d.outdatedAfterMs,
    state: deviceState(d, now),
    summary: statusSummary(d.lastStatus, fields),
    lastStatus: d.lastStatus,
    orders,
    transport:
      config !== null && typeof config === 'object' && config.transport === 'eot' ? 'eot' : 'mqtt',
  };
}
