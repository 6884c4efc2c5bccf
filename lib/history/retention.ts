// Retention of the embedded history: points older than the retention (by
// their own time, as InfluxDB's retention policies go) are deleted in the
// background, a small batch at a time with a pause between batches, so
// writes to the store never wait long behind a delete. One pruner per store
// in the process, however many history stores use it.
import { Kysely } from 'kysely';
import { Database } from '../store/schema';
import { Store } from '../store/store';
import { Clock, TimerHandle } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import { historyMetrics } from './metrics';

export interface RetentionOptions {
  /** How long a point is kept; 0 keeps points forever. */
  retentionMs: number;
  clock: Clock;
  logger: Logger;
  /** Rows one statement deletes, about. */
  batchRows?: number;
  /** Pause between two batches; 0 only yields to the event loop. */
  pauseMs?: number;
  /** From the start to the first pass. */
  firstPassMs?: number;
  /** Between the end of a pass and the next one. */
  intervalMs?: number;
}

export const DEFAULT_RETENTION_DAYS = 30;
const DAY_MS = 86_400_000;

export function retentionMs(days: number): number {
  return days * DAY_MS;
}

export class HistoryPruner {
  private readonly batchRows: number;
  private readonly pauseMs: number;
  private timer?: TimerHandle;
  private wake?: () => void;
  private pass?: Promise<number>;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: RetentionOptions,
  ) {
    this.batchRows = options.batchRows ?? 1000;
    this.pauseMs = options.pauseMs ?? 50;
  }

  /** Runs a pass soon, then one every interval, until stop(). */
  start(): void {
    this.schedule(this.options.firstPassMs ?? 60_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.options.clock.clearTimeout(this.timer);
    this.wake?.();
    await this.pass?.catch(() => undefined);
  }

  /** Deletes every point older than the retention, a batch at a time;
   *  resolves with the number of rows deleted (one per field of a point). */
  async prune(): Promise<number> {
    const cutoff = this.options.clock.now() - this.options.retentionMs;
    let deleted = 0;
    while (!this.stopped) {
      const { rows, more } = await this.deleteBatch(cutoff);
      deleted += rows;
      historyMetrics.pruned.inc(rows);
      if (!more) break;
      await this.pause();
    }
    return deleted;
  }

  private async deleteBatch(cutoff: number): Promise<{ rows: number; more: boolean }> {
    // The time of the batchRows-th oldest row, if that many are too old: one
    // portable statement (no DELETE … LIMIT in SQLite) then deletes about
    // batchRows rows through the index on time.
    const edge = await this.db
      .selectFrom('history_points')
      .select('time')
      .where('time', '<', cutoff)
      .orderBy('time')
      .limit(1)
      .offset(this.batchRows - 1)
      .executeTakeFirst();
    const result = await this.db
      .deleteFrom('history_points')
      .where('time', edge ? '<=' : '<', edge ? Number(edge.time) : cutoff)
      .executeTakeFirst();
    return { rows: Number(result.numDeletedRows), more: edge !== undefined };
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => {
      if (this.pauseMs <= 0) {
        setImmediate(resolve);
        return;
      }
      this.wake = resolve;
      this.timer = this.options.clock.setTimeout(resolve, this.pauseMs);
    });
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.pass = this.prune();
      this.pass
        .then(
          (rows) => {
            if (rows > 0) this.options.logger.debug(`history: deleted ${rows} rows past retention`);
            this.failing = false;
          },
          (err: unknown) => {
            // The store may be down for a while: say so once, try again later.
            if (!this.failing) {
              this.options.logger.warn(
                `history: cannot delete points past retention: ${errorMessage(err)}`,
              );
            }
            this.failing = true;
          },
        )
        .then(() => this.schedule(this.options.intervalMs ?? 3600_000));
    }, ms);
  }
}

const pruners = new Map<Store, { pruner: HistoryPruner; refs: number }>();

/**
 * Keeps the embedded history of `store` within the retention while held
 * (one pruner per store, the first holder's options); returns the release.
 * A retention of 0 keeps everything.
 */
export function retainHistory(store: Store, options: RetentionOptions): () => Promise<void> {
  if (!(options.retentionMs > 0)) return async () => undefined;
  let entry = pruners.get(store);
  if (!entry) {
    entry = { pruner: new HistoryPruner(store.db, options), refs: 0 };
    pruners.set(store, entry);
    entry.pruner.start();
  }
  entry.refs += 1;
  const held = entry;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    held.refs -= 1;
    if (held.refs === 0 && pruners.get(store) === held) {
      pruners.delete(store);
      await held.pruner.stop();
    }
  };
}
