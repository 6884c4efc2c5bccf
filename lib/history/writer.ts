// The history writer: accepts points into the spool (acknowledged once on
// disk) and sends them to the backend in order, in batches of up to
// `batchSize` points or every `flushIntervalMs`, one write at a time (the
// back-pressure on a slow backend: the rest waits on disk, not in memory).
// A backend that is down or answers 5xx is retried with backoff, the batch
// unchanged; points the backend refuses are reported and the rest written.
import { backoffDelay, BackoffOptions } from '../util/backoff';
import { Clock, TimerHandle } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import { HistoryBackend, HistoryUnavailableError, RejectedLine } from './backend';
import { historyMetrics } from './metrics';
import { Spool, SpoolBatch } from './spool';

export interface WriterOptions {
  backend: HistoryBackend;
  spool: Spool;
  clock: Clock;
  logger: Logger;
  /** Metrics label: which history store this is. */
  name: string;
  batchSize?: number;
  flushIntervalMs?: number;
  retry?: BackoffOptions;
  random?: () => number;
  /** A write taking longer is abandoned and retried. */
  writeTimeoutMs?: number;
  /** Points the backend refused, after the rest of their batch was written. */
  onRejected?: (rejected: RejectedLine[]) => void;
  /** After each batch written or failed, for status displays. */
  onChange?: () => void;
}

export interface WriterState {
  /** Points accepted and not yet written. */
  pending: number;
  spoolBytes: number;
  /** When the oldest unwritten point was accepted. */
  oldestAt?: number;
  written: number;
  rejected: number;
  dropped: number;
  /** Failed attempts in a row; 0 when the last write succeeded. */
  failures: number;
  lastError?: string;
}

export const DEFAULT_BATCH_SIZE = 5000;
export const DEFAULT_FLUSH_INTERVAL_MS = 1000;
const DEFAULT_RETRY: BackoffOptions = { initialMs: 500, maxMs: 30_000, jitter: 0.2 };

export class HistoryWriter {
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly retry: BackoffOptions;
  private running?: Promise<void>;
  private again = false;
  private flushDue = false;
  private flushTimer?: TimerHandle;
  private retryTimer?: TimerHandle;
  private abort?: AbortController;
  private draining = false;
  private stopped = false;
  private drainWaiters: Array<() => void> = [];
  private written = 0;
  private rejected = 0;
  private failures = 0;
  private lastError?: string;

  constructor(private readonly options: WriterOptions) {
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.retry = options.retry ?? DEFAULT_RETRY;
    options.spool.onData = () => this.kick();
    // Points left in the spool by a previous run go out first.
    if (options.spool.pending > 0) {
      this.flushDue = true;
      this.kick();
    }
    this.updateGauges();
  }

  /** Takes points (line protocol); resolves once they are safe on disk. */
  async accept(lines: string[]): Promise<void> {
    if (this.stopped) throw new Error('the history writer is closed');
    await this.options.spool.append(lines);
  }

  state(): WriterState {
    const spool = this.options.spool;
    return {
      pending: spool.pending,
      spoolBytes: spool.bytes,
      oldestAt: spool.oldestAt,
      written: this.written,
      rejected: this.rejected,
      dropped: spool.dropped,
      failures: this.failures,
      lastError: this.lastError,
    };
  }

  /** Sends everything accepted now; resolves once it is all written. */
  flush(): Promise<void> {
    if (this.options.spool.pending === 0 && !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      this.drainWaiters.push(resolve);
      this.flushDue = true;
      this.kick();
    });
  }

  /** Resolves when no batch is being read or written (for tests and benchmarks). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * Stops: tries for up to `graceMs` to send what is pending (not at all when
   * the backend is failing), then closes the spool. Whatever is left stays on
   * disk and is sent by the next writer on the same spool.
   */
  async close(graceMs = 2000): Promise<void> {
    if (this.stopped) return;
    if (graceMs > 0 && this.failures === 0 && this.options.spool.pending > 0) {
      this.draining = true;
      const timeout = new Promise<void>((resolve) => {
        const timer = this.options.clock.setTimeout(resolve, graceMs);
        this.flush().then(() => {
          this.options.clock.clearTimeout(timer);
          resolve();
        });
      });
      await timeout;
    }
    this.stopped = true;
    this.options.clock.clearTimeout(this.flushTimer);
    this.options.clock.clearTimeout(this.retryTimer);
    this.abort?.abort();
    await this.running;
    this.options.spool.onData = undefined;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
    await this.options.spool.close();
    this.updateGauges();
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run()
      .catch((err: unknown) => this.options.logger.error(`history writer: ${errorMessage(err)}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async run(): Promise<void> {
    const { spool, clock } = this.options;
    while (!this.stopped && this.retryTimer === undefined) {
      this.again = false;
      if (spool.pending === 0) {
        this.flushDue = false;
        clock.clearTimeout(this.flushTimer);
        this.flushTimer = undefined;
        for (const resolve of this.drainWaiters.splice(0)) resolve();
        this.updateGauges();
        return;
      }
      if (spool.pending < this.batchSize && !this.flushDue && !this.draining) {
        // Time batching: a point waits at most flushIntervalMs for others.
        this.flushTimer ??= clock.setTimeout(() => {
          this.flushTimer = undefined;
          this.flushDue = true;
          this.kick();
        }, this.flushIntervalMs);
        this.updateGauges();
        return;
      }
      const batch = await spool.read(this.batchSize);
      if (!batch) return;
      if (!(await this.send(batch))) return;
    }
  }

  /** Writes one batch; false when it failed and a retry is scheduled. */
  private async send(batch: SpoolBatch): Promise<boolean> {
    const { spool, clock, backend, name } = this.options;
    if (batch.count === 0) {
      await spool.commit(batch);
      return true;
    }
    const started = clock.now();
    const abort = new AbortController();
    this.abort = abort;
    const timer = clock.setTimeout(() => abort.abort(), this.options.writeTimeoutMs ?? 10_000);
    try {
      const outcome = await backend.write(batch, abort.signal);
      await spool.commit(batch);
      historyMetrics.writeSeconds.observe({ store: name }, (clock.now() - started) / 1000);
      const refused = outcome.rejected.length;
      this.written += batch.count - refused;
      historyMetrics.written.inc({ store: name }, batch.count - refused);
      historyMetrics.batches.inc({ store: name, result: refused > 0 ? 'partial' : 'ok' });
      if (this.failures > 0) {
        this.options.logger.info(`history: ${backend.description} accepts writes again`);
      }
      this.failures = 0;
      this.lastError = undefined;
      if (refused > 0) {
        this.rejected += refused;
        historyMetrics.rejected.inc({ store: name, stage: 'backend' }, refused);
        this.options.onRejected?.(outcome.rejected);
      }
      this.updateGauges();
      this.options.onChange?.();
      return true;
    } catch (err) {
      spool.release();
      if (this.stopped) return false;
      historyMetrics.batches.inc({ store: name, result: 'retry' });
      const message = abort.signal.aborted ? 'write timed out' : errorMessage(err);
      if (this.failures === 0 || !(err instanceof HistoryUnavailableError)) {
        this.options.logger.warn(
          `history: cannot write to ${backend.description} (${message}); points are kept on disk and retried`,
        );
      }
      this.failures += 1;
      this.lastError = message;
      const delay = backoffDelay(this.failures - 1, this.retry, this.options.random);
      this.retryTimer = clock.setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
      }, delay);
      this.updateGauges();
      this.options.onChange?.();
      return false;
    } finally {
      clock.clearTimeout(timer);
      this.abort = undefined;
    }
  }

  private updateGauges(): void {
    const { spool, name, clock } = this.options;
    historyMetrics.spoolBytes.set({ store: name }, spool.bytes);
    historyMetrics.spoolPoints.set({ store: name }, spool.pending);
    const oldest = spool.oldestAt;
    historyMetrics.oldestAge.set(
      { store: name },
      oldest === undefined ? 0 : Math.max(0, (clock.now() - oldest) / 1000),
    );
  }

  /** Refreshes the age gauge; the owner calls it on a timer. */
  tick(): void {
    if (!this.stopped) this.updateGauges();
  }
}
