// The command ledger's table (migration 0300_commands): one row per command,
// so a restart resumes what is pending and never replays what expired.

export interface CommandsTable {
  /** A random id (UUID). */
  id: string;
  /** Who runs the command: the actuator-command node's id. */
  owner: string;
  /** Unique when set: an order with a known key is never sent again. */
  idempotency_key: string | null;
  /** JSON: the CommandTarget. */
  target: string;
  /** JSON: the order (a string or a number). */
  order_value: string;
  dest: string;
  /** JSON: the unit ids the order must be confirmed by. */
  units: string;
  /** JSON: unit id → {at, status, rejected?}. */
  replies: string;
  /** queued, sent, confirmed, timeout, expired, rejected. */
  state: string;
  attempts: number;
  max_attempts: number;
  ack_timeout_ms: number;
  created_at: number;
  /** After this instant the order is never sent. */
  expires_at: number;
  first_sent_at: number | null;
  last_sent_at: number | null;
  finished_at: number | null;
  detail: string | null;
}

export interface CommandTables {
  sensflow_commands: CommandsTable;
}
