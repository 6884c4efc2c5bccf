// Prometheus metrics. Every module registers its own on the one registry that
// `/metrics` serves; the helpers return the existing metric when a module is
// loaded twice (tests, redeploys) instead of throwing on a duplicate name.
import client, { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const registry: Registry = client.register;

let processMetrics = false;

/** Node's process metrics (CPU, memory, event loop lag, handles), once. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  client.collectDefaultMetrics({ register: registry });
}

export function counter<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Counter<L> {
  return (
    (registry.getSingleMetric(name) as Counter<L>) ??
    new Counter({ name, help, labelNames, registers: [registry] })
  );
}

/** A gauge; `collect`, when given, sets its values at each scrape. */
export function gauge<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  collect?: (this: Gauge<L>) => Promise<void> | void,
): Gauge<L> {
  return (
    (registry.getSingleMetric(name) as Gauge<L>) ??
    new Gauge({ name, help, labelNames, registers: [registry], collect })
  );
}

export function histogram<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  buckets?: number[],
): Histogram<L> {
  return (
    (registry.getSingleMetric(name) as Histogram<L>) ??
    new Histogram({ name, help, labelNames, buckets, registers: [registry] })
  );
}
