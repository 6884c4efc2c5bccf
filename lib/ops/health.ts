// Health of the backends (broker, store, history): checked on demand for
// `/healthz`, and watched in the background so an outage is logged once when
// it starts and once when it ends, with retries spaced by backoff.
import { backoffDelay, BackoffOptions } from '../util/backoff';
import { Clock, systemClock, TimerHandle } from '../util/clock';
import { errorMessage, Logger } from '../util/log';

export interface Probe {
  /** e.g. "broker", "store", "history". */
  name: string;
  /** What is behind it, safe to show (no password): "embedded", "mysql://…". */
  backend: string;
  /** Resolves when the backend answers; rejects with the reason otherwise. */
  check(): Promise<void>;
}

export interface ComponentHealth {
  status: 'up' | 'down';
  backend: string;
  error?: string;
  latencyMs?: number;
}

export interface HealthReport {
  status: 'up' | 'down';
  components: Record<string, ComponentHealth>;
}

export interface HealthOptions {
  timeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Spacing of background checks while a backend is up, and retries while down. */
  upIntervalMs?: number;
  retry?: BackoffOptions;
  /** Told of every change of a backend's state (for metrics). */
  onChange?: (name: string, up: boolean) => void;
}

export class HealthMonitor {
  private readonly probes: Probe[] = [];
  private readonly timers = new Map<string, TimerHandle>();
  private readonly lastUp = new Map<string, boolean>();
  private stopped = false;
  private readonly clock: Clock;

  constructor(private readonly options: HealthOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  add(probe: Probe): void {
    this.probes.push(probe);
  }

  async check(): Promise<HealthReport> {
    const entries = await Promise.all(
      this.probes.map(async (p) => [p.name, await this.run(p)] as const),
    );
    const components = Object.fromEntries(entries);
    const status = entries.every(([, c]) => c.status === 'up') ? 'up' : 'down';
    return { status, components };
  }

  /** Starts background watching of every probe. */
  watch(): void {
    for (const probe of this.probes) this.schedule(probe, 0, 0);
  }

  stop(): void {
    this.stopped = true;
    for (const handle of this.timers.values()) this.clock.clearTimeout(handle);
    this.timers.clear();
  }

  private async run(probe: Probe): Promise<ComponentHealth> {
    const started = this.clock.now();
    const timeoutMs = this.options.timeoutMs ?? 2000;
    let timer: TimerHandle | undefined;
    try {
      await Promise.race([
        probe.check(),
        new Promise<never>((_, reject) => {
          timer = this.clock.setTimeout(
            () => reject(new Error(`no answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      this.record(probe, true);
      return { status: 'up', backend: probe.backend, latencyMs: this.clock.now() - started };
    } catch (err) {
      const error = errorMessage(err);
      this.record(probe, false, error);
      return { status: 'down', backend: probe.backend, error };
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  private record(probe: Probe, up: boolean, error?: string): void {
    const before = this.lastUp.get(probe.name);
    this.lastUp.set(probe.name, up);
    if (before === up) return;
    this.options.onChange?.(probe.name, up);
    const log = this.options.logger;
    if (!up) log?.warn(`${probe.name} (${probe.backend}) is down: ${error}; retrying with backoff`);
    else if (before === false) log?.info(`${probe.name} (${probe.backend}) is back`);
  }

  private schedule(probe: Probe, delayMs: number, failures: number): void {
    if (this.stopped) return;
    const handle = this.clock.setTimeout(async () => {
      const result = await this.run(probe);
      const down = result.status === 'down';
      const next = down
        ? backoffDelay(
            failures,
            this.options.retry ?? { initialMs: 1000, maxMs: 30_000, jitter: 0.2 },
          )
        : (this.options.upIntervalMs ?? 15_000);
      this.schedule(probe, next, down ? failures + 1 : 0);
    }, delayMs);
    this.timers.set(probe.name, handle);
  }
}
