// device-watchdog: emits online / outdated / back events for the devices of
// a registry (lib/registry/watchdog.ts does the watching).
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { clusterFor } from '../../lib/cluster/shared';
import { readLastSeen } from '../../lib/registry/last-seen';
import { DeviceWatchdog, WatchdogOwnership, WatchdogSource } from '../../lib/registry/watchdog';
import { systemClock } from '../../lib/util/clock';
import type { RegistryConfigNode } from '../sensflow-registry/registry-node';
import { nodeLogger } from '../shared/node-logger';

interface WatchdogDef extends NodeDef {
  registry: string;
  /** Minutes between reminders while a device stays outdated; 0: none. */
  repeat: string | number;
}

export = function (RED: NodeAPI) {
  function DeviceWatchdogNode(this: Node, def: WatchdogDef) {
    RED.nodes.createNode(this, def);
    const config = RED.nodes.getNode(def.registry) as RegistryConfigNode | null;
    const fail = (err: unknown) => {
      this.error(RED._('device-watchdog.errors.start', { error: String(err) }));
      this.status({ fill: 'red', shape: 'ring', text: 'device-watchdog.status.error' });
    };
    if (!config) return fail(RED._('device-watchdog.errors.no-registry'));
    const repeat = Number(def.repeat ?? 60);
    if (!Number.isFinite(repeat) || repeat < 0) return fail(RED._('device-watchdog.errors.repeat'));

    let watchdog: DeviceWatchdog | undefined;
    const showCounts = () => {
      if (!watchdog) return;
      const counts = watchdog.counts();
      this.status({
        fill: counts.outdated > 0 ? 'yellow' : 'green',
        shape: 'dot',
        text: RED._('device-watchdog.status.counts', counts),
      });
    };
    const starting = Promise.all([config.registry(), config.store()]).then(
      async ([registry, store]) => {
        // One of several instances: each device's timer is owned by one of them.
        const cluster = clusterFor(store);
        const ownership: WatchdogOwnership | undefined = cluster && {
          owns: (id) => cluster.owns(`watchdog:${id}`),
          onChange: (listener) => cluster.onMembership(listener),
          // The old owner was alive until about a lease before it was declared lost.
          handoverMs: 2 * cluster.leaseMs,
          recheckMs: 10_000,
        };
        const source: WatchdogSource = {
          listDevices: (filter) => registry.listDevices(filter),
          getDevice: (id) => registry.getDevice(id),
          watch: (listener) => registry.watch(listener),
          watchSeen: (listener) => registry.watchSeen(listener),
          lastSeenOf: (ids) => readLastSeen(store.db, ids),
        };
        watchdog = new DeviceWatchdog({
          source,
          ownership,
          clock: systemClock,
          repeatMs: repeat * 60_000,
          logger: nodeLogger(this),
          emit: (event) => {
            this.send({ topic: event.deviceId, payload: event });
            showCounts();
          },
        });
        await watchdog.start();
        showCounts();
      },
    );
    starting.catch(fail);
    this.on('close', (_removed: boolean, done: () => void) => {
      starting.finally(() => watchdog?.stop()).then(done, done);
    });
  }
  RED.nodes.registerType('device-watchdog', DeviceWatchdogNode);
};
