// The EOT server's Prometheus metrics. Counts by label are kept as plain
// numbers on the hot path and added to the counters when /metrics is read:
// a labelled increment costs more than routing a frame should.
import { Counter } from 'prom-client';
import { counter, gauge, registry } from '../ops/metrics';
import { FIELDS } from './constants';

export const connectedDevices = gauge(
  'sensflow_eot_connected_devices',
  'EOT devices logged in now',
);
export const openConnections = gauge(
  'sensflow_eot_connections',
  'EOT connections open now, logged in or not',
);
export const bytesIn = counter('sensflow_eot_bytes_in_total', 'Bytes received by the EOT server');
export const bytesOut = counter('sensflow_eot_bytes_out_total', 'Bytes sent by the EOT server');
export const queueDepth = gauge(
  'sensflow_eot_queue_depth',
  'Frames waiting in the offline queue for devices that are offline',
);

type Pending = Map<string, number>;

/** Pending counts per metric, shared by every copy of this module in the process. */
const pending: Record<string, Pending> = ((globalThis as Record<symbol, unknown>)[
  Symbol.for('sensflow.eot.metrics')
] ??= {}) as Record<string, Pending>;

function labelled(name: string, help: string, label: string): (value: string, by?: number) => void {
  const counts = (pending[name] ??= new Map());
  if (!registry.getSingleMetric(name)) {
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        for (const [value, n] of counts) this.inc({ [label]: value }, n);
        counts.clear();
      },
    });
  }
  return (value, by = 1) => counts.set(value, (counts.get(value) ?? 0) + by);
}

// Types a device invents are counted as `other`, so labels stay bounded.
const typeLabel = (type: string) => (type in FIELDS ? type : 'other');
const countIn = labelled('sensflow_eot_frames_in_total', 'EOT frames received, by type', 'type');
const countOut = labelled('sensflow_eot_frames_out_total', 'EOT frames sent, by type', 'type');

export const countLogin = labelled('sensflow_eot_logins_total', 'EOT logins by result', 'result');
export const countDropped = labelled(
  'sensflow_eot_dropped_frames_total',
  'EOT frames not delivered, by reason',
  'reason',
);
export const refusedConnections = labelled(
  'sensflow_eot_refused_connections_total',
  'EOT connections refused at once, by reason',
  'reason',
);
export const countFrameIn = (type: string) => countIn(typeLabel(type));
export const countFrameOut = (type: string, n = 1) => countOut(typeLabel(type), n);
