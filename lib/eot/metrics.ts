// The EOT server's Prometheus metrics. Label children are cached: frames are
// counted on the hot path, where looking labels up each time would show.
import type { Counter } from 'prom-client';
import { counter, gauge } from '../ops/metrics';
import { FIELDS } from './constants';

export const connectedDevices = gauge(
  'sensflow_eot_connected_devices',
  'EOT devices logged in now',
);
export const openConnections = gauge(
  'sensflow_eot_connections',
  'EOT connections open now, logged in or not',
);
const logins = counter('sensflow_eot_logins_total', 'EOT logins by result', ['result']);
const framesIn = counter('sensflow_eot_frames_in_total', 'EOT frames received, by type', ['type']);
const framesOut = counter('sensflow_eot_frames_out_total', 'EOT frames sent, by type', ['type']);
export const bytesIn = counter('sensflow_eot_bytes_in_total', 'Bytes received by the EOT server');
export const bytesOut = counter('sensflow_eot_bytes_out_total', 'Bytes sent by the EOT server');
export const queueDepth = gauge(
  'sensflow_eot_queue_depth',
  'Frames waiting in the offline queue for devices that are offline',
);
const dropped = counter(
  'sensflow_eot_dropped_frames_total',
  'EOT frames not delivered, by reason',
  ['reason'],
);

const refused = counter(
  'sensflow_eot_refused_connections_total',
  'EOT connections refused at once, by reason',
  ['reason'],
);

function cached<L extends string>(metric: Counter<L>, label: L) {
  const children = new Map<string, ReturnType<Counter<L>['labels']>>();
  return (value: string, by = 1) => {
    let child = children.get(value);
    if (!child) {
      child = metric.labels({ [label]: value } as Record<L, string>);
      children.set(value, child);
    }
    child.inc(by);
  };
}

// Types a device invents are counted as `other`, so labels stay bounded.
const typeLabel = (type: string) => (type in FIELDS ? type : 'other');
const countIn = cached(framesIn, 'type');
const countOut = cached(framesOut, 'type');

export const countLogin = cached(logins, 'result');
export const countDropped = cached(dropped, 'reason');
export const refusedConnections = cached(refused, 'reason');
export const countFrameIn = (type: string) => countIn(typeLabel(type));
export const countFrameOut = (type: string, n = 1) => countOut(typeLabel(type), n);
