// A per-key request budget over a sliding minute (e.g. per client address):
// enough for honest devices that call once per boot, too little for guessing.
// Memory is bounded: idle keys are dropped.
import type { Clock } from './clock';

export class RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: Clock,
    private readonly maxKeys = 10_000,
  ) {}

  /** Counts a request of `key`; returns 0 when allowed, else the ms to wait. */
  take(key: string): number {
    const now = this.clock.now();
    const since = now - this.windowMs;
    const times = (this.hits.get(key) ?? []).filter((t) => t > since);
    if (times.length >= this.limit) {
      this.hits.set(key, times);
      return times[0] + this.windowMs - now;
    }
    times.push(now);
    this.hits.delete(key); // re-insert: the map stays in least-recently-used order
    this.hits.set(key, times);
    if (this.hits.size > this.maxKeys) this.hits.delete(this.hits.keys().next().value as string);
    return 0;
  }
}
