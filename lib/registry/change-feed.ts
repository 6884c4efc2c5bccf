// The registry's change feed. Every change is a row written in the same
// transaction as the change itself, so every process sharing the store (the
// CLI, other instances) learns of it by polling, with no cache to go stale.
// Changes made in this process are announced at once, without the poll delay.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../store/schema';
import { Clock, systemClock, TimerHandle } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import type { DeviceChange, DeviceChangeKind } from './directory';

export interface ChangeFeedOptions {
  clock?: Clock;
  logger?: Logger;
  pollIntervalMs?: number;
  /** How long rows are kept before they are pruned. */
  keepMs?: number;
}

export class ChangeFeed {
  private readonly listeners = new Set<(change: DeviceChange) => void>();
  private readonly announced = new Set<number>();
  private lastSeq: number | undefined;
  private timer?: TimerHandle;
  private polling?: Promise<void>;
  private readonly clock: Clock;
  private polls = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: ChangeFeedOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  /** Records a change inside the caller's transaction; returns its sequence number. */
  async record(
    trx: Transaction<Database>,
    deviceId: string,
    kind: DeviceChangeKind,
  ): Promise<DeviceChange & { seq: number }> {
    const at = this.clock.now();
    const result = await trx
      .insertInto('registry_changes')
      .values({ device_id: deviceId, kind, at })
      .executeTakeFirst();
    return { seq: Number(result.insertId), deviceId, kind, at };
  }

  /** Announces committed changes of this process to its listeners now. */
  announce(changes: Array<DeviceChange & { seq: number }>): void {
    for (const change of changes) {
      if (this.lastSeq !== undefined && change.seq <= this.lastSeq) continue;
      this.announced.add(change.seq);
      this.emit(change);
    }
  }

  watch(listener: (change: DeviceChange) => void): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Reads changes made elsewhere since the last poll (also called by the timer). */
  async poll(): Promise<void> {
    this.polling ??= this.readNew().finally(() => (this.polling = undefined));
    return this.polling;
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private start(): void {
    void this.poll(); // learn the current position at once
    const tick = () => {
      this.timer = this.clock.setTimeout(() => {
        this.poll().then(tick, tick);
      }, this.options.pollIntervalMs ?? 500);
    };
    tick();
  }

  private async readNew(): Promise<void> {
    try {
      if (this.lastSeq === undefined) {
        const row = await this.db
          .selectFrom('registry_changes')
          .select((eb) => eb.fn.max('seq').as('seq'))
          .executeTakeFirst();
        this.lastSeq = Number(row?.seq ?? 0);
        return;
      }
      const rows = await this.db
        .selectFrom('registry_changes')
        .selectAll()
        .where('seq', '>', this.lastSeq)
        .orderBy('seq')
        .limit(1000)
        .execute();
      for (const row of rows) {
        this.lastSeq = row.seq;
        if (this.announced.delete(row.seq)) continue;
        this.emit({
          deviceId: row.device_id,
          kind: row.kind as DeviceChangeKind,
          at: Number(row.at),
        });
      }
      if (++this.polls % 1000 === 0) await this.prune();
    } catch (err) {
      this.options.logger?.warn(`registry change feed: ${errorMessage(err)}`);
    }
  }

  private async prune(): Promise<void> {
    const before = this.clock.now() - (this.options.keepMs ?? 24 * 3600_000);
    await this.db.deleteFrom('registry_changes').where('at', '<', before).execute();
  }

  private emit(change: DeviceChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.options.logger?.warn(`registry change listener: ${errorMessage(err)}`);
      }
    }
  }
}
