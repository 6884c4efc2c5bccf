// Writes that must reach the store in order: alarm transitions are decided in
// memory at once (a reading never waits for the database) and written here
// behind it, everything pending in one transaction (an alarm storm costs a
// few commits, not one per transition). A failed batch is retried with
// backoff, holding back what came after it, so the history never gets a
// hole or a reordering while the database is briefly away.
import { backoffDelay } from '../util/backoff';
import type { Clock } from '../util/clock';
import { errorMessage, Logger } from '../util/log';

const MAX_BATCH = 500;

export class WriteQueue<T> {
  private readonly pending: T[] = [];
  private draining?: Promise<void>;
  private closed = false;
  private wake?: () => void;

  constructor(
    /** Writes a batch, in order, in one transaction. */
    private readonly write: (batch: T[]) => Promise<void>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly what: string,
    private readonly onError?: (err: unknown) => void,
  ) {}

  get length(): number {
    return this.pending.length;
  }

  push(item: T): void {
    this.pending.push(item);
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  /** Resolves when everything pushed so far is written (or given up at close). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Tries what is left once more, then drops it (logged). */
  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.flush();
  }

  private async drain(): Promise<void> {
    let attempt = 0;
    // Let the transitions of the current burst of readings join the batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, MAX_BATCH);
      try {
        await this.write(batch);
        this.pending.splice(0, batch.length);
        attempt = 0;
      } catch (err) {
        this.onError?.(err);
        if (this.closed) {
          this.logger.error(
            `${this.what}: ${this.pending.length} writes lost at close: ${errorMessage(err)}`,
          );
          this.pending.length = 0;
          return;
        }
        const wait = backoffDelay(attempt++, { initialMs: 200, maxMs: 10_000 });
        this.logger.warn(
          `${this.what}: write failed, retrying in ${wait} ms: ${errorMessage(err)}`,
        );
        await new Promise<void>((resolve) => {
          const timer = this.clock.setTimeout(resolve, wait);
          this.wake = () => {
            this.clock.clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }
}
