// The cluster this process belongs to, set by the launcher when it runs as
// one of several instances, and found by the nodes that take part (the EOT
// server, actuator commands, the device watchdog, alarms). Only services on
// the cluster's own store join it: a node on another store stays local.
import type { Store } from '../store/store';
import type { ClusterView } from './cluster';

interface Current {
  cluster: ClusterView;
  store: Store;
}

// On globalThis: the launcher and the nodes may load their own copies of this module.
const slot = Symbol.for('sensflow.cluster');
const global = globalThis as { [slot]?: Current };

export function setCurrentCluster(cluster: ClusterView | undefined, store?: Store): void {
  global[slot] = cluster && store ? { cluster, store } : undefined;
}

/** The cluster running on `store`, if this process is one of several instances. */
export function clusterFor(store: Store): ClusterView | undefined {
  const current = global[slot];
  return current && current.store === store ? current.cluster : undefined;
}
