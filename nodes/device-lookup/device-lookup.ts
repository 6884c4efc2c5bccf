// device-lookup: adds msg.device (public fields only) for msg.deviceId or,
// failing that, for the device whose base topic msg.topic is under. Answers
// come from a cache kept fresh by the registry's change feed, so a reading
// from a known device costs no query.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { DeviceCache } from '../../lib/registry/device-cache';
import { lookupDevice } from '../../lib/registry/lookup';
import type { RegistryConfigNode } from '../sensflow-registry/registry-node';

interface LookupDef extends NodeDef {
  registry: string;
}

type LookupMessage = NodeMessageInFlow & {
  deviceId?: unknown;
  device?: unknown;
  devices?: unknown;
};

/** How old a cached device's lastSeen and lastStatus may be (they change
 *  with every sign of life, which the change feed does not announce). */
const SEEN_MAX_AGE_MS = 60_000;

export = function (RED: NodeAPI) {
  function DeviceLookupNode(this: Node, def: LookupDef) {
    RED.nodes.createNode(this, def);
    const config = RED.nodes.getNode(def.registry) as RegistryConfigNode | null;
    let cache: Promise<DeviceCache> | undefined;
    const devices = () => {
      cache ??= config!
        .directory()
        .then((directory) => new DeviceCache(directory, { maxAgeMs: SEEN_MAX_AGE_MS }));
      cache.catch(() => (cache = undefined)); // try again with the next message
      return cache;
    };
    this.on('close', (_removed: boolean, closed: () => void) => {
      cache?.then((c) => c.close()).catch(() => undefined);
      closed();
    });
    this.on('input', async (input, send, done) => {
      const msg = input as LookupMessage;
      try {
        if (!config) throw new Error(RED._('device-lookup.errors.no-registry'));
        const deviceId = typeof msg.deviceId === 'string' ? msg.deviceId : undefined;
        const topic = typeof msg.topic === 'string' && msg.topic !== '' ? msg.topic : undefined;
        if (deviceId === undefined && topic === undefined)
          throw new Error(RED._('device-lookup.errors.no-key'));
        const found = await lookupDevice(await devices(), { deviceId, topic });
        msg.device = found.device;
        if (found.devices) msg.devices = found.devices;
        this.status(
          found.device
            ? { fill: 'green', shape: 'dot', text: found.device.id }
            : { fill: 'grey', shape: 'ring', text: 'device-lookup.status.none' },
        );
        send(msg);
        done();
      } catch (err) {
        this.status({ fill: 'red', shape: 'ring', text: 'device-lookup.status.error' });
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }
  RED.nodes.registerType('device-lookup', DeviceLookupNode);
};
