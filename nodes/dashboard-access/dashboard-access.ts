// dashboard-access: lets a message from a dashboard through only when its
// user may see (and, for actions, act on) every device, location and alarm it
// names; refused ones go to output 2 with the reason. The user comes from the
// connection the message came in on (lib/dashboard/sessions), never from
// what the browser sent. The decision is lib/dashboard/access.ts.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { loadAlarm } from '../../lib/alarms/book-store';
import { AccessLookups, refusal, stampUser, subjectsOf } from '../../lib/dashboard/access';
import { dashboardSessions } from '../../lib/dashboard/sessions';
import { errorMessage } from '../../lib/util/log';
import type { RegistryConfigNode } from '../sensflow-registry/registry-node';

interface AccessDef extends NodeDef {
  registry: string;
  /** `view` (any user) or `operate` (operators only). */
  require: string;
}

export = function (RED: NodeAPI) {
  function DashboardAccessNode(this: Node, def: AccessDef) {
    RED.nodes.createNode(this, def);
    const config = RED.nodes.getNode(def.registry) as RegistryConfigNode | null;
    const operate = def.require === 'operate';

    const lookups = async (): Promise<AccessLookups> => {
      if (!config) throw new Error(RED._('dashboard-access.errors.no-registry'));
      const registry = await config.registry();
      const store = await config.store();
      return {
        customerOfDevice: async (id) => (await registry.findDevice(id))?.customerId ?? null,
        customersAt: async (base) => (await registry.devicesAt(base)).map((d) => d.customerId),
        customerOfAlarm: async (id) => {
          const alarm = await loadAlarm(store.db, id);
          return alarm ? alarm.customerId : undefined;
        },
      };
    };

    this.on('input', async (input, send, done) => {
      const msg = input as NodeMessageInFlow & Record<string, unknown>;
      try {
        const resolved = dashboardSessions.resolve(msg._client);
        let reason: string | null;
        if ('refused' in resolved) reason = resolved.refused;
        else {
          reason = await refusal(resolved.identity, subjectsOf(msg), await lookups(), { operate });
          if (reason === null) stampUser(msg, resolved.identity);
        }
        if (reason === null) {
          this.status({});
          send([msg, null]);
        } else {
          msg.refused = reason;
          this.status({ fill: 'yellow', shape: 'ring', text: reason });
          send([null, msg]);
        }
        done();
      } catch (err) {
        this.status({ fill: 'red', shape: 'ring', text: 'dashboard-access.status.error' });
        done(new Error(errorMessage(err)));
      }
    });
  }
  RED.nodes.registerType('dashboard-access', DashboardAccessNode);
};
