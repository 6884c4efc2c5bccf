// device-lookup: adds msg.device (public fields only) for msg.deviceId or,
// failing that, for the device whose base topic msg.topic is under.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
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

export = function (RED: NodeAPI) {
  function DeviceLookupNode(this: Node, def: LookupDef) {
    RED.nodes.createNode(this, def);
    const config = RED.nodes.getNode(def.registry) as RegistryConfigNode | null;
    this.on('input', async (input, send, done) => {
      const msg = input as LookupMessage;
      try {
        if (!config) throw new Error(RED._('device-lookup.errors.no-registry'));
        const deviceId = typeof msg.deviceId === 'string' ? msg.deviceId : undefined;
        const topic = typeof msg.topic === 'string' && msg.topic !== '' ? msg.topic : undefined;
        if (deviceId === undefined && topic === undefined)
          throw new Error(RED._('device-lookup.errors.no-key'));
        const found = await lookupDevice(await config.directory(), { deviceId, topic });
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
