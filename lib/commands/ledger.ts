// The command ledger on the shared store. Every state change is a conditional
// update from an open state (queued, sent), so a command reaches exactly one
// final state however its timer, its echo and a restart race; the unique
// idempotency key makes the database, not the process, refuse a second send.
import type { Kysely } from 'kysely';
import { isDuplicateKey } from '../registry/errors';
import type { Database } from '../store/schema';
import type { CommandsTable } from './schema';
import { CommandState, CommandTarget, OPEN_STATES, OrderValue, UnitReply } from './types';

export interface CommandRecord {
  id: string;
  owner: string;
  idempotencyKey: string | null;
  target: CommandTarget;
  order: OrderValue;
  dest: string;
  units: string[];
  replies: Record<string, UnitReply>;
  state: CommandState;
  attempts: number;
  maxAttempts: number;
  ackTimeoutMs: number;
  createdAt: number;
  expiresAt: number;
  firstSentAt: number | null;
  lastSentAt: number | null;
  finishedAt: number | null;
  detail: string | null;
}

const OPEN = OPEN_STATES as CommandState[];

export class CommandLedger {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records a new command, or returns the one that already holds its key. */
  async create(record: CommandRecord): Promise<{ record: CommandRecord; duplicate: boolean }> {
    if (record.idempotencyKey !== null) {
      const existing = await this.byKey(record.idempotencyKey);
      if (existing) return { record: existing, duplicate: true };
    }
    try {
      await this.db.insertInto('sensflow_commands').values(toRow(record)).execute();
      return { record, duplicate: false };
    } catch (err) {
      // Two submits with one key at once: the unique index lets one through.
      if (record.idempotencyKey !== null && isDuplicateKey(err)) {
        const existing = await this.byKey(record.idempotencyKey);
        if (existing) return { record: existing, duplicate: true };
      }
      throw err;
    }
  }

  async get(id: string): Promise<CommandRecord | null> {
    const row = await this.db
      .selectFrom('sensflow_commands')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? fromRow(row) : null;
  }

  async byKey(key: string): Promise<CommandRecord | null> {
    const row = await this.db
      .selectFrom('sensflow_commands')
      .selectAll()
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    return row ? fromRow(row) : null;
  }

  /** The owner's commands still queued or sent, oldest first. */
  async open(owner: string): Promise<CommandRecord[]> {
    const rows = await this.db
      .selectFrom('sensflow_commands')
      .selectAll()
      .where('owner', '=', owner)
      .where('state', 'in', OPEN)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(fromRow);
  }

  /** Records one more send; false when the command is no longer open. */
  async markSent(record: CommandRecord): Promise<boolean> {
    return this.updateOpen(record, {
      state: 'sent',
      attempts: record.attempts,
      first_sent_at: record.firstSentAt,
      last_sent_at: record.lastSentAt,
    });
  }

  /** Records the units' answers so far; false when the command is no longer open. */
  async saveReplies(record: CommandRecord): Promise<boolean> {
    return this.updateOpen(record, { replies: JSON.stringify(record.replies) });
  }

  /** Moves an open command to its final state; false when it was already final. */
  async finish(record: CommandRecord): Promise<boolean> {
    return this.updateOpen(record, {
      state: record.state,
      replies: JSON.stringify(record.replies),
      finished_at: record.finishedAt,
      detail: record.detail,
    });
  }

  /** Makes `to` the owner of every open command of `from` (an owner on a lost
   *  instance); returns how many. One statement: of two instances taking over
   *  at once, one gets them all. */
  async adopt(from: string, to: string): Promise<number> {
    const result = await this.db
      .updateTable('sensflow_commands')
      .set({ owner: to })
      .where('owner', '=', from)
      .where('state', 'in', OPEN)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Expires every open command of an owner that is gone for good. */
  async abandon(owner: string, at: number, detail: string): Promise<number> {
    const result = await this.db
      .updateTable('sensflow_commands')
      .set({ state: 'expired', finished_at: at, detail })
      .where('owner', '=', owner)
      .where('state', 'in', OPEN)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  private async updateOpen(
    record: Pick<CommandRecord, 'id' | 'owner'>,
    values: Partial<CommandsTable>,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('sensflow_commands')
      .set(values)
      .where('id', '=', record.id)
      .where('owner', '=', record.owner)
      .where('state', 'in', OPEN)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}

function toRow(r: CommandRecord): CommandsTable {
  return {
    id: r.id,
    owner: r.owner,
    idempotency_key: r.idempotencyKey,
    target: JSON.stringify(r.target),
    order_value: JSON.stringify(r.order),
    dest: r.dest,
    units: JSON.stringify(r.units),
    replies: JSON.stringify(r.replies),
    state: r.state,
    attempts: r.attempts,
    max_attempts: r.maxAttempts,
    ack_timeout_ms: r.ackTimeoutMs,
    created_at: r.createdAt,
    expires_at: r.expiresAt,
    first_sent_at: r.firstSentAt,
    last_sent_at: r.lastSentAt,
    finished_at: r.finishedAt,
    detail: r.detail,
  };
}

const nullableNumber = (v: number | string | null) => (v === null ? null : Number(v));

function fromRow(row: CommandsTable): CommandRecord {
  return {
    id: row.id,
    owner: row.owner,
    idempotencyKey: row.idempotency_key,
    target: JSON.parse(row.target) as CommandTarget,
    order: JSON.parse(row.order_value) as OrderValue,
    dest: row.dest,
    units: JSON.parse(row.units) as string[],
    replies: JSON.parse(row.replies) as Record<string, UnitReply>,
    state: row.state as CommandState,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    ackTimeoutMs: Number(row.ack_timeout_ms),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    firstSentAt: nullableNumber(row.first_sent_at),
    lastSentAt: nullableNumber(row.last_sent_at),
    finishedAt: nullableNumber(row.finished_at),
    detail: row.detail,
  };
}
