// What an alarm book shared by several instances learns of the others'
// transitions: every transition row since the last read (polled, as the
// registry's change feed is), and for each alarm whose version moved beyond
// the book's, its row from the store. The book takes it in silently: the
// instance that made the change announced it.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import type { Clock, TimerHandle } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import { changedSince, loadAlarms } from './book-store';
import type { Alarm } from './lifecycle';

export class BookSync {
  /** Versions this instance wrote, so its own changes are not read back. */
  private readonly written = new Map<string, number>();
  private timer?: TimerHandle;
  private polling?: Promise<void>;
  private stopped = false;
  private known: (id: string, version: number) => boolean = () => false;

  constructor(
    private readonly db: Kysely<Database>,
    private lastSeq: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly take: (alarm: Alarm) => void,
  ) {}

  /** Starts polling; `known` says whether the book already holds that version. */
  start(known: (id: string, version: number) => boolean): void {
    this.known = known;
    const tick = () => {
      if (this.stopped) return;
      this.timer = this.clock.setTimeout(() => void this.poll().finally(tick), this.intervalMs);
    };
    tick();
  }

  wrote(id: string, version: number): void {
    if (this.written.size > 10_000) this.written.clear();
    this.written.set(id, version);
  }

  /** Reads what changed since the last poll (one poll at a time). */
  poll(): Promise<void> {
    this.polling ??= this.read().finally(() => (this.polling = undefined));
    return this.polling;
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }

  private async read(): Promise<void> {
    try {
      for (;;) {
        const { changes, lastSeq } = await changedSince(this.db, this.lastSeq);
        this.lastSeq = lastSeq;
        const ids = new Set<string>();
        for (const { id, version } of changes) {
          if ((this.written.get(id) ?? 0) >= version || this.known(id, version)) continue;
          ids.add(id);
        }
        for (const alarm of await loadAlarms(this.db, [...ids])) this.take(alarm);
        if (changes.length < 1000) return;
      }
    } catch (err) {
      this.logger.warn(`alarms of other instances: ${errorMessage(err)}`);
    }
  }
}
