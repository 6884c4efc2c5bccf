// EOT tables: what devices reported (events, alarms), the offline queue, and
// the login guards (the seed AUTH's replay window, login throttling), kept in
// the store so a restart forgets nothing and instances can share them.
import type { Generated } from 'kysely';

export interface DeviceEventsTable {
  id: Generated<number>;
  device_id: string;
  customer_id: string;
  name: string;
  data: string;
  /** Epoch ms the server received it. */
  at: number;
}

export interface DeviceAlarmsTable {
  id: Generated<number>;
  device_id: string;
  customer_id: string;
  name: string;
  value: string;
  at: number;
}

/** A MSG or WRITE kept for a device that is offline, until it logs in or expires. */
export interface EotQueueTable {
  seq: Generated<number>;
  customer_id: string;
  destination: string;
  origin: string;
  type: string;
  /** JSON array of the frame's fields. */
  fields: string;
  created_at: number;
  expires_at: number;
}

/** `(device, random)` pairs of accepted AUTH logins (and nonces device-auth accepted). */
export interface EotAuthReplayTable {
  device_id: string;
  random: string;
  at: number;
}

/** Failed logins per key (`id:<device>` or `addr:<address>`) and lockouts. */
export interface EotLoginFailuresTable {
  key: string;
  failures: number;
  window_start: number;
  locked_until: number;
}

export interface EotTables {
  device_events: DeviceEventsTable;
  device_alarms: DeviceAlarmsTable;
  eot_queue: EotQueueTable;
  eot_auth_replay: EotAuthReplayTable;
  eot_login_failures: EotLoginFailuresTable;
}
