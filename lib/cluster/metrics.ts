// Scale-out metrics: the instances alive, the bus between them, what was
// taken over from lost instances.
import { counter, gauge } from '../ops/metrics';

export const clusterMetrics = {
  instances: gauge(
    'sensflow_cluster_instances',
    'Instances alive, as this one sees them (itself included)',
  ),
  lost: counter(
    'sensflow_cluster_instances_lost_total',
    'Instances declared lost (lease not renewed, or stopped)',
  ),
  leaseHealthy: gauge(
    'sensflow_cluster_lease_ok',
    'Whether this instance renewed its lease in time (1) or not (0)',
  ),
  busConnected: gauge(
    'sensflow_cluster_bus_connected',
    'Whether the bus to the other instances is connected',
  ),
  busMessages: counter('sensflow_cluster_bus_messages_total', 'Messages between instances', [
    'direction',
  ]),
  busResends: counter(
    'sensflow_cluster_bus_resends_total',
    'Batches sent again because no acknowledgement came in time',
  ),
  busPending: gauge(
    'sensflow_cluster_bus_pending',
    'Messages to other instances not yet acknowledged',
  ),
  takenOver: counter('sensflow_cluster_taken_over_total', 'Work taken over from lost instances', [
    'kind',
  ]),
};
