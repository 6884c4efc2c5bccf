// The shapes of actuator commands, shared by the ledger, the transports and
// the service: where an order goes, what state it is in, what came back.

/** An order: a name (`up`, `reboot`) or a level (lighting 0-100). */
export type OrderValue = string | number;

/** Orders over MQTT go to `<base>/<kind>/command`; echoes come on `<base>/<kind>`. */
export interface MqttTarget {
  transport: 'mqtt';
  base: string;
  kind: string;
}

/** Orders over EOT are `WRITE|<actuator>|<value>` frames to one device, answered by `ACK`. */
export interface EotTarget {
  transport: 'eot';
  deviceId: string;
  actuator: string;
}

export type CommandTarget = MqttTarget | EotTarget;

export type CommandState = 'queued' | 'sent' | 'confirmed' | 'timeout' | 'expired' | 'rejected';

export const FINAL_STATES: readonly CommandState[] = [
  'confirmed',
  'timeout',
  'expired',
  'rejected',
];
export const OPEN_STATES: readonly CommandState[] = ['queued', 'sent'];

/** `dest` of an order: every unit at the target, or one unit's id. */
export const ALL_UNITS = 'all';

export interface CommandRequest {
  target: CommandTarget;
  order: OrderValue;
  /** `all`, or the unitID of one unit. */
  dest: string;
  /** An order with a key already in the ledger is never sent again. */
  idempotencyKey?: string;
}

/** What one unit answered. */
export interface UnitReply {
  /** Epoch ms of the echo. */
  at: number;
  /** The unit's status (the echo's `status` field, or the whole echo). */
  status: unknown;
  /** True when the unit (or the transport for it) refused the order. */
  rejected?: boolean;
}

export type UnitState = 'pending' | 'confirmed' | 'rejected' | 'timeout' | 'expired';

export interface UnitOutcome {
  state: UnitState;
  latencyMs: number | null;
  status: unknown;
}

/** One result per command, on the node's first output. */
export interface CommandResult {
  commandId: string;
  target: CommandTarget;
  order: OrderValue;
  dest: string;
  state: CommandState;
  attempts: number;
  /** From the first send to the last confirmation; null unless confirmed. */
  latencyMs: number | null;
  /** One unit: its echoed status. `all`: unitID → status. */
  status: unknown;
  /** The per-unit table. */
  units: Record<string, UnitOutcome>;
  /** Why a command was rejected, expired or timed out, when known. */
  detail?: string;
  /** The request repeated an idempotency key: nothing was sent for it. */
  duplicate?: boolean;
  /** A reinstall order reset the device's credentials. */
  credentialsReset?: boolean;
}

/** A message heard on a target's echo topic (the node's second output). */
export interface Incoming {
  target: CommandTarget;
  topic?: string;
  /** The payload, parsed when it is JSON. */
  payload: unknown;
  /** Set when the message is a unit's echo (it names a unitID). */
  echo?: { unitId: string; status: unknown; rejected?: boolean };
  /** The command the echo confirmed, if any. */
  commandId?: string;
}

export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}

/** One key per target, for grouping commands and listeners. */
export function targetKey(target: CommandTarget): string {
  return target.transport === 'mqtt'
    ? `mqtt:${target.base}/${target.kind}`
    : `eot:${target.deviceId}/${target.actuator}`;
}

/** The module kind an order is checked against (the actuator for EOT). */
export function targetKind(target: CommandTarget): string {
  return target.transport === 'mqtt' ? target.kind : target.actuator;
}
