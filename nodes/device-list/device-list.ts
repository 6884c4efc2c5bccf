// device-list: the registered devices as the Fleet page shows them (state,
// readable last status, orders of their type), all of them, a customer's, or
// one. A message from a dashboard user of one customer only ever gets that
// customer's devices, whatever it asks (lib/dashboard/sessions).
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { fleetRow, FleetRow, parseStatusFields, StatusField } from '../../lib/dashboard/fleet';
import { dashboardSessions } from '../../lib/dashboard/sessions';
import type { DeviceInfo } from '../../lib/registry/directory';
import { errorMessage } from '../../lib/util/log';
import type { RegistryConfigNode } from '../sensflow-registry/registry-node';

interface ListDef extends NodeDef {
  registry: string;
  fields: string;
  limit: string;
}

type ListMessage = NodeMessageInFlow & {
  customerId?: unknown;
  deviceId?: unknown;
  _client?: unknown;
  total?: number;
};

const PAGE = 1000;
const DEFAULT_LIMIT = 5000;

export = function (RED: NodeAPI) {
  function DeviceListNode(this: Node, def: ListDef) {
    RED.nodes.createNode(this, def);
    const config = RED.nodes.getNode(def.registry) as RegistryConfigNode | null;
    let fields: StatusField[] = [];
    try {
      fields = parseStatusFields(def.fields ?? '');
    } catch (err) {
      this.status({ fill: 'red', shape: 'ring', text: errorMessage(err) });
    }
    const limit = Number(def.limit) > 0 ? Number(def.limit) : DEFAULT_LIMIT;

    this.on('input', async (input, send, done) => {
      const msg = input as ListMessage;
      try {
        if (!config) throw new Error(RED._('device-list.errors.no-registry'));
        const asked =
          typeof msg.customerId === 'string' && msg.customerId !== '' ? msg.customerId : undefined;
        const customer = scopeOf(msg._client, asked);
        const registry = await config.registry();
        const orders = new Map((await registry.types.list()).map((t) => [t.name, t.orders]));
        let devices: DeviceInfo[] = [];
        let total: number;
        if (typeof msg.deviceId === 'string') {
          const found = await registry.findDevice(msg.deviceId);
          devices =
            found && (customer === undefined || found.customerId === customer) ? [found] : [];
          total = devices.length;
        } else {
          total = 0;
          for (let offset = 0; devices.length < limit; offset += PAGE) {
            const page = await registry.listDevices({ customerId: customer, limit: PAGE, offset });
            total = page.total;
            devices.push(...page.items.slice(0, limit - devices.length));
            if (page.items.length < PAGE) break;
          }
        }
        const now = Date.now();
        const rows: FleetRow[] = devices.map((d) =>
          fleetRow(d, now, fields, orders.get(d.type) ?? null),
        );
        msg.payload = rows;
        msg.total = total;
        this.status({ fill: 'green', shape: 'dot', text: `${rows.length}` });
        send(msg);
        done();
      } catch (err) {
        this.status({ fill: 'red', shape: 'ring', text: 'device-list.status.error' });
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });

    /** The customer to list: what the message asks, narrowed to the
     *  dashboard user's own customer when it comes from one. */
    function scopeOf(client: unknown, asked: string | undefined): string | undefined {
      if (client === undefined) return asked;
      const resolved = dashboardSessions.resolve(client);
      if ('refused' in resolved) throw new Error(resolved.refused);
      const own = resolved.identity.customerId;
      if (own === null) return asked;
      if (asked !== undefined && asked !== own)
        throw new Error(RED._('device-list.errors.other-customer'));
      return own;
    }
  }
  RED.nodes.registerType('device-list', DeviceListNode);
};
