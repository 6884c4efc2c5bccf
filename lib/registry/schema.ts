// Registry tables: customers, device types, devices, dashboard users, and the
// change feed that tells every process and instance what changed.
import type { Generated } from 'kysely';

export interface CustomersTable {
  id: string;
  name: string;
  created_at: number;
}

export interface DeviceTypesTable {
  name: string;
  /** JSON Schema of this type's device configuration, or null. */
  config_schema: string | null;
  /** JSON object: module kind → orders it accepts (e.g. {"shutter":["up","down","stop"]}), or null. */
  orders: string | null;
  /** Silence after which a device of this type is outdated; null: the default. */
  outdated_after_ms: number | null;
  created_at: number;
}

export interface DevicesTable {
  id: string;
  uid_type: string;
  uid: string | null;
  type: string;
  customer_id: string;
  description: string;
  location: string;
  enabled: number;
  /** JSON. */
  config: string;
  /** The serial number, encrypted at rest (see secrets.ts); never plain. */
  serial_enc: string;
  mqtt_login: string;
  /** Peppered hash of the MQTT password; null until it is first delivered. */
  mqtt_password_hash: string | null;
  /** 1 once the password was handed out by /device/credentials. */
  credentials_delivered: number;
  outdated_after_ms: number | null;
  last_seen: number | null;
  /** JSON, or null. */
  last_status: string | null;
  created_at: number;
  updated_at: number;
}

export interface DashboardUsersTable {
  username: string;
  password_hash: string;
  /** Null: every customer (an operator of the whole installation). */
  customer_id: string | null;
  role: string;
  created_at: number;
  updated_at: number;
}

export interface RegistryChangesTable {
  seq: Generated<number>;
  device_id: string;
  kind: string;
  at: number;
}

export interface RegistryTables {
  customers: CustomersTable;
  device_types: DeviceTypesTable;
  devices: DevicesTable;
  dashboard_users: DashboardUsersTable;
  registry_changes: RegistryChangesTable;
}
