// Store and forward: sends the gateway's queued batches to the cloud, oldest
// first, one at a time, and forgets each only once the cloud has confirmed
// it by id. A connection that fails or a confirmation that does not come in
// time is dropped and tried again after a backoff (the Clock is injected, so
// tests drive the retries). The connection is opened when there is something
// to send and closed when the queue is empty, as the seed's gateway does.
import { backoffDelay, BackoffOptions } from '../util/backoff';
import { Clock, TimerHandle } from '../util/clock';
import { errorMessage, Logger, silentLogger } from '../util/log';
import { SurveyBatch } from './batch';
import { QueuedBatch } from './queue';

/** The cloud's answer to one batch. */
export type Delivery = { kind: 'received' } | { kind: 'refused'; reason: string };

/** One connection to the cloud. */
export interface CloudConnection {
  /** Sends a batch; resolves with the cloud's answer for its id, rejects when
   *  the connection fails (and for every later call once it has). */
  deliver(batch: SurveyBatch): Promise<Delivery>;
  close(): void;
}

export type Connect = () => Promise<CloudConnection>;

/** What the forwarder needs of the queue. */
export interface ForwardQueue {
  readonly size: number;
  peek(): QueuedBatch | undefined;
  remove(seq: number): Promise<void>;
  refuse(seq: number, reason: string): Promise<void>;
}

export type ForwarderEvent =
  | { event: 'forwarded'; batch: QueuedBatch }
  | { event: 'refused'; batch: QueuedBatch; reason: string }
  /** The first failure after a success: the cloud cannot be reached. */
  | { event: 'unreachable'; error: string }
  /** A batch went through after failures. */
  | { event: 'reachable' };

export interface ForwarderState {
  pending: number;
  connected: boolean;
  /** Failures in a row; 0 when the last attempt went through. */
  failures: number;
  lastError?: string;
}

export interface ForwarderOptions {
  queue: ForwardQueue;
  connect: Connect;
  clock: Clock;
  logger?: Logger;
  /** How long the cloud may take to accept a connection, or to confirm a batch. */
  confirmTimeoutMs?: number;
  backoff?: BackoffOptions;
  random?: () => number;
  onEvent?: (event: ForwarderEvent) => void;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 10_000, jitter: 0.2 };
export const DEFAULT_CONFIRM_TIMEOUT_MS = 10_000;

export class Forwarder {
  private connection?: CloudConnection;
  private failures = 0;
  private lastError?: string;
  private stopped = false;
  private running?: Promise<void>;
  /** Resolves the current idle wait or backoff sleep. */
  private wakeUp?: () => void;
  private sleeping = false;
  private readonly timeoutMs: number;
  private readonly backoff: BackoffOptions;
  private readonly logger: Logger;

  constructor(private readonly options: ForwarderOptions) {
    this.timeoutMs = options.confirmTimeoutMs ?? DEFAULT_CONFIRM_TIMEOUT_MS;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.logger = options.logger ?? silentLogger;
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Something was queued: start sending unless waiting out a backoff. */
  wake(): void {
    if (!this.sleeping) this.wakeUp?.();
  }

  state(): ForwarderState {
    return {
      pending: this.options.queue.size,
      connected: this.connection !== undefined,
      failures: this.failures,
      lastError: this.lastError,
    };
  }

  /** Stops sending and hangs up; what is not confirmed stays queued. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    this.hangUp();
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const batch = this.options.queue.peek();
      if (!batch) {
        this.hangUp();
        await this.wait();
        continue;
      }
      try {
        await this.send(batch);
      } catch (err) {
        if (this.stopped) break;
        this.hangUp();
        this.fail(err);
        this.sleeping = true;
        await this.wait(backoffDelay(this.failures - 1, this.backoff, this.options.random));
        this.sleeping = false;
      }
    }
    this.hangUp();
  }

  private async send(batch: QueuedBatch): Promise<void> {
    this.connection ??= await this.timed(
      this.options.connect(),
      'connecting to the cloud',
      (late) => late.close(),
    );
    const answer = await this.timed(
      this.connection.deliver(batch),
      'waiting for "Surveys received"',
    );
    if (answer.kind === 'received') {
      await this.options.queue.remove(batch.seq);
      this.emit({ event: 'forwarded', batch });
    } else {
      this.logger.error(
        `the cloud refused batch ${batch.id} (${batch.lines.length} lines): ${answer.reason}`,
      );
      await this.options.queue.refuse(batch.seq, answer.reason);
      this.emit({ event: 'refused', batch, reason: answer.reason });
    }
    if (this.failures > 0) {
      this.failures = 0;
      this.lastError = undefined;
      this.logger.info(
        `the cloud is reachable again; ${this.options.queue.size} batches left to send`,
      );
      this.emit({ event: 'reachable' });
    }
  }

  private fail(err: unknown): void {
    this.failures += 1;
    this.lastError = errorMessage(err);
    if (this.failures === 1) {
      this.logger.warn(
        `cannot forward to the cloud: ${this.lastError}; ${this.options.queue.size} batches kept, retrying`,
      );
      this.emit({ event: 'unreachable', error: this.lastError });
    }
  }

  /** Waits until woken, or for `ms` when given (a backoff). */
  private wait(ms?: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      this.wakeUp = () => {
        this.options.clock.clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      if (ms !== undefined) timer = this.options.clock.setTimeout(() => this.wakeUp?.(), ms);
    });
  }

  /** `promise`, or a rejection when it takes longer than the timeout. */
  private timed<T>(promise: Promise<T>, what: string, onLate?: (value: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = this.options.clock.setTimeout(() => {
        settled = true;
        reject(new Error(`no answer from the cloud in ${this.timeoutMs / 1000} s (${what})`));
      }, this.timeoutMs);
      promise.then(
        (value) => {
          if (settled) return onLate?.(value);
          settled = true;
          this.options.clock.clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          if (settled) return;
          settled = true;
          this.options.clock.clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private hangUp(): void {
    this.connection?.close();
    this.connection = undefined;
  }

  private emit(event: ForwarderEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch (err) {
      this.logger.error(`survey forwarder event handler: ${errorMessage(err)}`);
    }
  }
}
