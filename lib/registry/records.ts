// How a device row reads to the rest of Sensflow: its public fields and
// credential state, never its secrets.
import type { Selectable } from 'kysely';
import type { DeviceInfo, UidType } from './directory';
import type { DevicesTable } from './schema';
import { normalizeUid } from './validation';

export const DEFAULT_OUTDATED_AFTER_MS = 30 * 60_000;

/** A device as administrators see it: public fields plus credential state, never secrets. */
export interface DeviceRecord extends DeviceInfo {
  mqttLogin: string;
  credentialsDelivered: boolean;
  /** The device's own threshold (null when it follows its type). */
  ownOutdatedAfterMs: number | null;
  createdAt: number;
  updatedAt: number;
}

/** A devices row joined with its type's threshold. */
export type DeviceRow = Selectable<DevicesTable> & { type_outdated_after_ms: number | null };

export function toRecord(row: DeviceRow): DeviceRecord {
  const own = row.outdated_after_ms === null ? null : Number(row.outdated_after_ms);
  const byType = row.type_outdated_after_ms === null ? null : Number(row.type_outdated_after_ms);
  return {
    id: row.id,
    type: row.type,
    customerId: row.customer_id,
    location: row.location,
    enabled: Boolean(row.enabled),
    uidType: row.uid_type as UidType,
    uid: row.uid,
    description: row.description,
    config: JSON.parse(row.config),
    lastSeen: row.last_seen === null ? null : Number(row.last_seen),
    lastStatus: row.last_status === null ? null : JSON.parse(row.last_status),
    outdatedAfterMs: own ?? byType ?? DEFAULT_OUTDATED_AFTER_MS,
    ownOutdatedAfterMs: own,
    mqttLogin: row.mqtt_login,
    credentialsDelivered: Boolean(row.credentials_delivered),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** The normal forms a uid given to /device/credentials may match. */
export function uidForms(uid: string): string[] {
  const forms = new Set([uid]);
  for (const type of ['ethernet', 'lorawan'] as const) {
    try {
      const normal = normalizeUid(type, uid);
      if (normal) forms.add(normal);
    } catch {
      // not of that kind
    }
  }
  return [...forms];
}
