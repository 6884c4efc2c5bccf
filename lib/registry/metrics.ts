// The registry's metrics: devices by state (counted at each scrape), device
// logins accepted or refused by reason, and provisioning calls by outcome.
import type { Kysely } from 'kysely';
import { counter, gauge } from '../ops/metrics';
import type { Database } from '../store/schema';
import type { Clock } from '../util/clock';
import { DEFAULT_OUTDATED_AFTER_MS } from './records';

export const deviceLogins = counter(
  'sensflow_device_logins_total',
  'Device logins by transport (mqtt, http), result (accepted, refused) and reason',
  ['transport', 'result', 'reason'],
);

export const provisioningCalls = counter(
  'sensflow_provisioning_requests_total',
  'Calls of /device/credentials and /device/config by endpoint and HTTP status',
  ['endpoint', 'status'],
);

export type DeviceState = 'online' | 'outdated' | 'unknown' | 'disabled';

/** Counts devices by state: disabled, never seen (unknown), seen within
 *  their threshold (online), or silent longer (outdated). */
export async function countDeviceStates(
  db: Kysely<Database>,
  now: number,
): Promise<Record<DeviceState, number>> {
  const rows = await db
    .selectFrom('devices')
    .leftJoin('device_types', 'device_types.name', 'devices.type')
    .select([
      'devices.enabled',
      'devices.last_seen',
      'devices.outdated_after_ms',
      'device_types.outdated_after_ms as type_outdated_after_ms',
    ])
    .execute();
  const counts: Record<DeviceState, number> = { online: 0, outdated: 0, unknown: 0, disabled: 0 };
  for (const row of rows) {
    if (!row.enabled) counts.disabled++;
    else if (row.last_seen === null) counts.unknown++;
    else {
      const threshold = Number(
        row.outdated_after_ms ?? row.type_outdated_after_ms ?? DEFAULT_OUTDATED_AFTER_MS,
      );
      if (Number(row.last_seen) + threshold >= now) counts.online++;
      else counts.outdated++;
    }
  }
  return counts;
}

let source: { db: Kysely<Database>; clock: Clock } | undefined;

/** Makes `/metrics` count the devices of this store (the server's own). */
export function trackDeviceStates(db: Kysely<Database>, clock: Clock): () => void {
  const mine = { db, clock };
  source = mine;
  gauge('sensflow_devices', 'Registered devices by state', ['state'], async function () {
    const current = source;
    if (!current) return;
    try {
      const counts = await countDeviceStates(current.db, current.clock.now());
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    } catch {
      // The store is down: /healthz says so; keep the last counts.
    }
  });
  return () => {
    if (source === mine) source = undefined;
  };
}
