// Scale-out tables (migration 0600_scale_out): one lease row per running
// instance, and which instance holds which EOT device. Both live in the shared
// store, so every instance reads the same truth and a dead instance's rows can
// be cleaned by the others.

/** A running instance's lease: renewed every beat while the instance lives. */
export interface InstancesTable {
  /** SENSFLOW_INSTANCE_ID. */
  id: string;
  /** Random per run of the process: a restart under the same id is a new incarnation. */
  token: string;
  /** Heartbeats so far; observers judge liveness by this moving, on their own clock. */
  beats: number;
  /** How long observers wait for a beat before declaring the instance dead. */
  ttl_ms: number;
  host: string;
  pid: number;
  started_at: number;
  /** Epoch ms of the last beat, by the instance's clock (for people, not for liveness). */
  heartbeat_at: number;
}

/** Where an EOT device is logged in: at most one row per device in the cluster. */
export interface EotPresenceTable {
  device_id: string;
  /** The eot-server node (the same id on every instance running the same flows). */
  server_id: string;
  instance_id: string;
  instance_token: string;
  /** The connection's own random id: a takeover or a close names the one it means. */
  session: string;
  customer_id: string;
  since: number;
}

export interface ClusterTables {
  sensflow_instances: InstancesTable;
  eot_presence: EotPresenceTable;
}
