// What a CommandService is built from: its tunings, the registry checks and
// operations it needs, and where its results go.
import type { BackoffOptions } from '../util/backoff';
import type { Clock } from '../util/clock';
import type { Logger } from '../util/log';
import type { CommandLedger } from './ledger';
import type { CommandTransport } from './transport';
import type { CommandRequest, CommandResult, Incoming } from './types';

export interface CommandOptions {
  /** How long units have to confirm after each send. */
  ackTimeoutMs: number;
  /** Sends at most, the first included. */
  maxAttempts: number;
  /** After this long an order is never sent; an open command ends. */
  ttlMs: number;
  /** The wait before each retry, after an unanswered send. */
  backoff: BackoffOptions;
  /** Commands waiting for the transport (broker down) at most; more are refused. */
  queueLimit: number;
}

export const DEFAULT_COMMAND_OPTIONS: CommandOptions = {
  ackTimeoutMs: 10_000,
  maxAttempts: 3,
  ttlMs: 5 * 60_000,
  backoff: { initialMs: 1_000, maxMs: 30_000 },
  queueLimit: 1_000,
};

/** Who may receive an order, checked before anything is recorded or sent. */
export interface UnitSource {
  resolve(request: CommandRequest): Promise<string[]>;
}

/** The registry operation a reinstall order needs. */
export interface CredentialReset {
  resetCredentials(deviceId: string): Promise<void>;
}

export interface CommandEvents<C> {
  /** One call per command, when it ends; `context` is what submit was given. */
  result(result: CommandResult, context: C | undefined): void;
  /** Everything heard on the targets' echo topics. */
  message?(message: Incoming): void;
}

export interface CommandServiceDeps<C> {
  /** The ledger rows this service runs and resumes (a node id). */
  owner: string;
  ledger: CommandLedger;
  transport: CommandTransport;
  units: UnitSource;
  events: CommandEvents<C>;
  credentials?: CredentialReset;
  clock?: Clock;
  logger?: Logger;
  options?: Partial<CommandOptions>;
  newId?: () => string;
}
