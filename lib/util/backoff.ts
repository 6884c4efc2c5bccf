// Exponential backoff for reconnects and retries: initial, doubled each
// attempt, capped; an optional jitter spreads the retries of many clients.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** 0..1: the share of each delay that is randomised. */
  jitter?: number;
}

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const base = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  const jitter = options.jitter ?? 0;
  return Math.round(base * (1 - jitter) + base * jitter * random());
}
