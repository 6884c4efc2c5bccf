// alarm-control: acknowledge, shelve, unshelve, clear, escalate, get and list
// rule alarms from a flow (or a dashboard), and optionally every alarm change
// on a second output. Glue only: requests are parsed and run by
// lib/alarms/control.ts on the store's alarm book.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { AlarmBook } from '../../lib/alarms/book';
import { parseRequest, runControl } from '../../lib/alarms/control';
import { alarmMessage } from '../../lib/alarms/runner';
import { alarmBookFor } from '../../lib/alarms/shared';
import { errorMessage } from '../../lib/util/log';
import type { RegistryConfigNode } from '../sensflow-registry/registry-node';

interface AlarmControlDef extends NodeDef {
  registry: string;
  /** A fixed action, or `msg` to take it from msg.payload.action / msg.topic. */
  action: string;
  user: string;
  watch: boolean;
}

export = function (RED: NodeAPI) {
  function AlarmControlNode(this: Node, def: AlarmControlDef) {
    RED.nodes.createNode(this, def);
    const registry = RED.nodes.getNode(def.registry) as RegistryConfigNode | null;
    let unwatch: (() => void) | undefined;
    const opening: Promise<AlarmBook> = (async () => {
      if (!registry) throw new Error(RED._('alarm-control.errors.noRegistry'));
      const book = await alarmBookFor(await registry.store(), RED.log);
      if (def.watch)
        unwatch = book.onChange((change) => this.send([null, alarmMessage(change, undefined)]));
      return book;
    })();
    opening.catch((err: unknown) => {
      this.status({ fill: 'red', shape: 'ring', text: errorMessage(err) });
      this.error(RED._('alarm-control.errors.start', { error: errorMessage(err) }));
    });

    this.on('input', async (msg: NodeMessageInFlow, send, done) => {
      try {
        const payload = msg.payload;
        const input: Record<string, unknown> =
          payload !== null && typeof payload === 'object' && !Array.isArray(payload)
            ? { ...(payload as Record<string, unknown>) }
            : {};
        input.user ??= (msg as { user?: unknown }).user ?? (def.user || undefined);
        const action =
          def.action && def.action !== 'msg' ? def.action : (input.action ?? msg.topic);
        const request = parseRequest(input, typeof action === 'string' ? action : undefined);
        const result = await runControl(await opening, request);
        this.status({});
        send([{ ...msg, payload: result, action: request.action }, null]);
        done();
      } catch (err) {
        this.status({ fill: 'red', shape: 'ring', text: errorMessage(err) });
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      unwatch?.();
      done();
    });
  }
  RED.nodes.registerType('alarm-control', AlarmControlNode);
};
