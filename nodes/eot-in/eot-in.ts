// Frames from logged-in EOT devices into the flow, filtered by type and/or
// device: msg.payload = {origin, destination, type, fields, customer}, msg.topic = type.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { DeviceFrame } from '../../lib/eot/server';
import { errorMessage } from '../../lib/util/log';
import type { EotServerConfigNode } from '../eot-server/eot-server-node';

interface EotInDef extends NodeDef {
  server: string;
  /** Comma-separated types; empty: all. */
  types: string;
  /** One device id; empty: all. */
  device: string;
}

export = function (RED: NodeAPI) {
  function EotInNode(this: Node, def: EotInDef) {
    RED.nodes.createNode(this, def);
    const serverNode = RED.nodes.getNode(def.server) as EotServerConfigNode | null;
    if (!serverNode) {
      this.status({ fill: 'red', shape: 'ring', text: 'eot-in.status.noServer' });
      this.error(RED._('eot-in.errors.noServer'));
      return;
    }
    const types = new Set(
      (def.types ?? '')
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    );
    const device = def.device?.trim();
    const onFrame = (frame: DeviceFrame) => {
      if (types.size > 0 && !types.has(frame.type)) return;
      if (device && frame.origin !== device) return;
      this.send({ topic: frame.type, payload: { ...frame, fields: [...frame.fields] } });
    };
    let detach = () => {};
    serverNode.server().then(
      (server) => {
        server.on('frame', onFrame);
        detach = () => server.off('frame', onFrame);
        this.status({ fill: 'green', shape: 'dot', text: 'eot-in.status.listening' });
      },
      (err: unknown) =>
        this.status({ fill: 'red', shape: 'ring', text: errorMessage(err).slice(0, 60) }),
    );
    this.on('close', (_removed: boolean, done: () => void) => {
      detach();
      done();
    });
  }
  RED.nodes.registerType('eot-in', EotInNode);
};
