// Sends a frame from the flow to an EOT device, or to `*` of a customer:
// msg.payload = {destination, type, fields, customer?, origin?}. An unknown
// device, one of another customer, or one offline for a type that is not
// queued fails the message (done(err)).
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { errorMessage } from '../../lib/util/log';
import type { EotServerConfigNode } from '../eot-server/eot-server-node';
import { frameFromPayload } from './payload';

interface EotOutDef extends NodeDef {
  server: string;
}

export = function (RED: NodeAPI) {
  function EotOutNode(this: Node, def: EotOutDef) {
    RED.nodes.createNode(this, def);
    const serverNode = RED.nodes.getNode(def.server) as EotServerConfigNode | null;
    const fail = (err: unknown, done: (err?: Error) => void) => {
      this.status({ fill: 'red', shape: 'ring', text: errorMessage(err).slice(0, 60) });
      done(err instanceof Error ? err : new Error(String(err)));
    };
    this.on('input', async (msg: NodeMessage, _send, done) => {
      try {
        if (!serverNode) throw new Error(RED._('eot-out.errors.noServer'));
        const frame = frameFromPayload(msg.payload);
        const server = await serverNode.server();
        const result = await server.send(frame);
        const text =
          result.status === 'queued'
            ? RED._('eot-out.status.queued', { destination: frame.destination })
            : RED._('eot-out.status.delivered', { count: result.count });
        this.status({ fill: 'green', shape: 'dot', text });
        done();
      } catch (err) {
        fail(err, done);
      }
    });
  }
  RED.nodes.registerType('eot-out', EotOutNode);
};
