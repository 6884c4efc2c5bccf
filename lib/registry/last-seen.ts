// Signs of life (an EOT frame, an MQTT status) arrive far more often than
// `last_seen` needs writing: they are kept in memory and written in one
// transaction per interval, and kept for the next try if the store is down.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import type { Clock, TimerHandle } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import { MAX_STATUS_BYTES } from './validation';

/** Devices written per transaction. */
const CHUNK = 100;

export class LastSeenWriter {
  private readonly pending = new Map<string, { at: number; status?: string }>();
  private timer?: TimerHandle;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly logger?: Logger,
    private readonly flushMs = 1000,
  ) {}

  mark(id: string, at: number, status?: unknown): void {
    const previous = this.pending.get(id);
    let statusText = previous?.status;
    if (status !== undefined) {
      const text = JSON.stringify(status);
      const bytes = Buffer.byteLength(text);
      if (bytes <= MAX_STATUS_BYTES) statusText = text;
      else
        this.logger?.warn(
          `device ${id}: status of ${bytes} bytes ignored (limit ${MAX_STATUS_BYTES})`,
        );
    }
    this.pending.set(id, { at: Math.max(at, previous?.at ?? 0), status: statusText });
    this.timer ??= this.clock.setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((err: unknown) => this.logger?.warn(`last seen: ${errorMessage(err)}`));
    }, this.flushMs);
  }

  /** Writes what is pending, after any write already under way (so awaiting
   *  it means everything marked before the call is stored). */
  flush(): Promise<void> {
    const next = this.running.catch(() => undefined).then(() => this.writePending());
    this.running = next;
    return next;
  }

  private async writePending(): Promise<void> {
    const batch = [...this.pending.entries()];
    this.pending.clear();
    // Small transactions with a turn of the event loop between them: on the
    // synchronous SQLite driver one big transaction would hold up every
    // socket of the process while it runs.
    for (let i = 0; i < batch.length; i += CHUNK) {
      const chunk = batch.slice(i, i + CHUNK);
      try {
        await this.write(chunk);
      } catch (err) {
        for (const [id, value] of batch.slice(i))
          if (!this.pending.has(id)) this.pending.set(id, value);
        throw err;
      }
      if (i + CHUNK < batch.length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private async write(chunk: Array<[string, { at: number; status?: string }]>): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const [id, { at, status }] of chunk) {
        await trx
          .updateTable('devices')
          .set(status === undefined ? { last_seen: at } : { last_seen: at, last_status: status })
          .where('id', '=', id)
          // Never move last_seen backwards (another instance may be ahead).
          .where((eb) => eb.or([eb('last_seen', 'is', null), eb('last_seen', '<', at)]))
          .execute();
      }
    });
  }

  async close(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush().catch((err: unknown) =>
      this.logger?.warn(`last seen at close: ${errorMessage(err)}`),
    );
  }
}

/** last_seen of many devices (unknown ids are left out). */
export async function readLastSeen(
  db: Kysely<Database>,
  ids: string[],
): Promise<Map<string, number | null>> {
  const seen = new Map<string, number | null>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom('devices')
      .select(['id', 'last_seen'])
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const row of rows) seen.set(row.id, row.last_seen === null ? null : Number(row.last_seen));
  }
  return seen;
}
