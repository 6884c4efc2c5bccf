// History's Prometheus metrics, labelled by history store (config node id).
import { counter, gauge, histogram } from '../ops/metrics';

export const historyMetrics = {
  written: counter('sensflow_history_points_written_total', 'Points written to history', ['store']),
  batches: counter('sensflow_history_batches_total', 'Batch writes to history, by result', [
    'store',
    'result',
  ]),
  rejected: counter(
    'sensflow_history_points_rejected_total',
    'Points refused: bad input at the node (input) or by the history backend (backend)',
    ['store', 'stage'],
  ),
  dropped: counter(
    'sensflow_history_points_dropped_total',
    'Unsent points dropped, oldest first, to keep the spool under its size limit',
    ['store'],
  ),
  spoolBytes: gauge('sensflow_history_spool_bytes', 'Size of the history spool files', ['store']),
  spoolPoints: gauge('sensflow_history_spool_points', 'Points accepted and not yet written', [
    'store',
  ]),
  oldestAge: gauge(
    'sensflow_history_spool_oldest_seconds',
    'Age of the oldest point accepted and not yet written',
    ['store'],
  ),
  writeSeconds: histogram(
    'sensflow_history_write_seconds',
    'Duration of one batch write to the history backend',
    ['store'],
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  ),
};
