// The per-customer dashboard nodes in a real Node-RED runtime on a registry
// in an SQLite file: dashboard-access lets through only what the connection's
// user may do, device-list lists only what they may see, the Dashboard 2.0
// plugin marks and filters messages per user, and device-simulator runs the
// marked devices of the registry over MQTT (through a broker that checks
// their registry logins) and EOT.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import type { NodeMessage } from 'node-red';
import { EmbeddedBroker, Principal } from '../../lib/broker/embedded-broker';
import { dashboardSessions } from '../../lib/dashboard/sessions';
import { Registry } from '../../lib/registry/registry';
import { credentialSecretFor } from '../../lib/security/credential-secret';
import { openStore } from '../../lib/store/store';
import { silentLogger } from '../../lib/util/log';
import accessNode from '../../nodes/dashboard-access/dashboard-access';
import { hooks } from '../../nodes/dashboard-scope/dashboard-scope';
import listNode from '../../nodes/device-list/device-list';
import simulatorNode from '../../nodes/device-simulator/device-simulator';
import eotServerNode from '../../nodes/eot-server/eot-server';
import registryNode from '../../nodes/sensflow-registry/sensflow-registry';
import type { RegistryConfigNode } from '../../nodes/sensflow-registry/registry-node';
import { freePort, waitFor } from '../support/net';
import { helper, load, startServer, stopServer, userDir } from '../support/node-helper';

const alice = { username: 'alice', customerId: 'acme', role: 'operator' as const };
const victor = { username: 'victor', customerId: 'acme', role: 'viewer' as const };
const root = { username: 'root', customerId: null, role: 'operator' as const };

/** A registry file with two customers and their devices, made before the flow starts. */
async function seededRegistry(): Promise<string> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-dash-')), 'r.db');
  const store = await openStore({ kind: 'sqlite', file });
  const registry = new Registry(store.db, { credentialSecret: credentialSecretFor(userDir) });
  await registry.customers.add({ id: 'acme', name: 'ACME' });
  await registry.customers.add({ id: 'globex', name: 'Globex' });
  await registry.types.save({ name: 'shutter_t', orders: { shutter: ['up', 'down', 'stop'] } });
  const sim = (extra: Record<string, unknown> = {}) => ({ transport: 'mqtt', simulate: extra });
  await registry.addDevice({
    id: 'a-env',
    type: 'esp32',
    customerId: 'acme',
    location: 'u4/300',
    config: sim({ sensors: ['co2'] }),
  });
  await registry.addDevice({
    id: 'a-shutter',
    type: 'shutter_t',
    customerId: 'acme',
    location: 'u4/300',
    config: sim(),
  });
  await registry.addDevice({
    id: 'a-eot',
    type: 'mkr1000',
    customerId: 'acme',
    location: 'u4/302',
    config: { transport: 'eot', simulate: {} },
  });
  await registry.addDevice({
    id: 'g-env',
    type: 'esp32',
    customerId: 'globex',
    location: 'b1/1',
    config: sim(),
  });
  await registry.addDevice({
    id: 'g-plain',
    type: 'esp32',
    customerId: 'globex',
    location: 'b1/2',
  });
  await registry.markSeen('a-env', Date.now(), { firmware: '2.0', free_mem: 1234 });
  await registry.close();
  await store.close();
  return file;
}

describe('dashboard nodes', function () {
  this.timeout(30_000);
  let file: string;

  before(async () => {
    file = await seededRegistry();
  });
  beforeEach(async () => {
    await startServer();
  });
  afterEach(async () => {
    await stopServer();
    dashboardSessions.enforce(false);
    dashboardSessions.release('s-alice');
    dashboardSessions.release('s-victor');
    dashboardSessions.release('s-root');
  });

  async function accessFlow(require: string) {
    await load(
      [registryNode, accessNode, listNode],
      [
        { id: 'r', type: 'sensflow-registry', store: 'sqlite', file },
        { id: 'acc', type: 'dashboard-access', registry: 'r', require, wires: [['ok'], ['no']] },
        {
          id: 'list',
          type: 'device-list',
          registry: 'r',
          fields: 'firmware: Firmware, free_mem: Free memory',
          wires: [['rows']],
        },
        { id: 'ok', type: 'helper' },
        { id: 'no', type: 'helper' },
        { id: 'rows', type: 'helper' },
      ],
    );
    const allowed: NodeMessage[] = [];
    const refused: Array<NodeMessage & { refused?: string }> = [];
    helper.getNode('ok').on('input', (m: NodeMessage) => allowed.push(m));
    helper.getNode('no').on('input', (m: NodeMessage) => refused.push(m));
    return { allowed, refused };
  }

  function bindUsers() {
    dashboardSessions.enforce();
    dashboardSessions.bind('s-alice', alice);
    dashboardSessions.bind('s-victor', victor);
    dashboardSessions.bind('s-root', root);
  }

  it("dashboard-access: lets an operator act on their customer's devices only", async () => {
    const { allowed, refused } = await accessFlow('operate');
    bindUsers();
    const acc = helper.getNode('acc');
    const sent: unknown[] = [
      {
        _client: { socketId: 's-alice', user: root },
        payload: { deviceId: 'a-shutter', user: 'mallory' },
      },
      { _client: { socketId: 's-alice' }, payload: { destination: 'g-env', type: 'MSG' } },
      { _client: { socketId: 's-alice' }, target: { base: 'b1/1', kind: 'shutter' } },
      { _client: { socketId: 's-alice' }, payload: { action: 'acknowledge', alarmId: 'nope' } },
      { _client: { socketId: 's-victor' }, payload: { deviceId: 'a-shutter' } },
      { _client: { socketId: 'forged' }, payload: { deviceId: 'a-shutter' } },
      { payload: { deviceId: 'a-shutter' } },
      { _client: { socketId: 's-root' }, payload: { deviceId: 'g-env' } },
    ];
    for (const [i, msg] of sent.entries()) {
      acc.receive(msg as never);
      await waitFor(async () => assert.equal(allowed.length + refused.length, i + 1), 5000);
    }
    assert.deepEqual(
      allowed.map((m) => [
        (m as { user?: string }).user,
        (m.payload as { user?: string }).user,
        (m as { customerId?: string }).customerId,
      ]),
      [
        ['alice', 'alice', 'acme'],
        ['root', 'root', undefined],
      ],
    );
    assert.deepEqual(
      refused.map((m) => m.refused),
      [
        'device g-env belongs to another customer',
        'b1/1 has devices of another customer',
        'no alarm nope',
        'victor may only watch (viewer)',
        'unknown dashboard connection',
        'not sent from a dashboard connection',
      ],
    );
    assert.equal(
      (refused[0].payload as { destination: string }).destination,
      'g-env',
      'the message as sent',
    );
  });

  it('dashboard-access: in a stock Node-RED (nobody binds connections) lets everything through', async () => {
    const { allowed, refused } = await accessFlow('operate');
    helper.getNode('acc').receive({ payload: { deviceId: 'g-env' } } as never);
    await waitFor(async () => assert.equal(allowed.length, 1), 5000);
    assert.equal((allowed[0] as { user?: string }).user, 'dashboard');
    assert.equal(refused.length, 0);
  });

  it("device-list: lists a dashboard user's own customer's devices, with state and readable status", async () => {
    await accessFlow('view');
    bindUsers();
    const rows: NodeMessage[] = [];
    const errors: string[] = [];
    helper.getNode('rows').on('input', (m: NodeMessage) => rows.push(m));
    const list = helper.getNode('list');
    (list as unknown as NodeJS.EventEmitter).on('call:error', (call: { firstArg: unknown }) =>
      errors.push(String(call.firstArg)),
    );
    const asks: unknown[] = [
      {},
      { customerId: 'globex' },
      { _client: { socketId: 's-alice' } },
      { deviceId: 'g-env', _client: { socketId: 's-alice' } },
      { customerId: 'globex', _client: { socketId: 's-alice' } },
    ];
    for (const [i, msg] of asks.entries()) {
      list.receive(msg as never);
      await waitFor(async () => assert.equal(rows.length + errors.length, i + 1), 5000);
    }
    const ids = (m: NodeMessage) => (m.payload as Array<{ id: string }>).map((d) => d.id);
    assert.deepEqual(ids(rows[0]), ['a-env', 'a-eot', 'a-shutter', 'g-env', 'g-plain']);
    assert.deepEqual(ids(rows[1]), ['g-env', 'g-plain']);
    assert.deepEqual(ids(rows[2]), ['a-env', 'a-eot', 'a-shutter'], "alice's own, unasked");
    assert.deepEqual(ids(rows[3]), [], "another customer's device is not found");
    // (the helper runtime has no translations: the message key stands for the text)
    assert.match(errors[0], /other-customer|own customer/);
    const env = (rows[0].payload as Array<Record<string, unknown>>)[0];
    assert.equal(env.state, 'online');
    assert.deepEqual(env.summary, [
      { label: 'Firmware', value: '2.0' },
      { label: 'Free memory', value: '1,234' },
    ]);
    const eot = (rows[0].payload as Array<Record<string, unknown>>)[1];
    assert.equal(eot.transport, 'eot');
    assert.equal(eot.state, 'unknown');
    assert.deepEqual((rows[0].payload as Array<Record<string, unknown>>)[2].orders, {
      shutter: ['up', 'down', 'stop'],
    });
  });

  it("the dashboard plugin: stamps the connection's user over the browser's, and shows each customer its own", () => {
    bindUsers();
    const forged = { _client: { user: root, socketId: 'x' } };
    const stamped = hooks.onAddConnectionCredentials({ id: 's-alice' }, forged);
    assert.deepEqual(stamped._client?.user, alice);
    assert.deepEqual(
      hooks.onAddConnectionCredentials({ id: 'unknown' }, { _client: { user: root } })._client,
      {},
    );
    assert.equal(hooks.onIsValidConnection({ id: 's-alice' }, { _customer: 'acme' }), true);
    assert.equal(hooks.onIsValidConnection({ id: 's-alice' }, { _customer: 'globex' }), false);
    assert.equal(hooks.onIsValidConnection({ id: 's-root' }, { _customer: 'globex' }), true);
    assert.equal(hooks.onIsValidConnection({ id: 's-alice' }, { payload: 1 }), true);
    assert.deepEqual(
      hooks.onLoad({ id: 's-alice' }, 'chart', [
        { _customer: 'acme', n: 1 },
        { _customer: 'globex', n: 2 },
        { n: 3 },
      ]),
      [{ _customer: 'acme', n: 1 }, { n: 3 }],
    );
    assert.equal(hooks.onLoad({ id: 's-alice' }, 'text', { _customer: 'globex' }), undefined);
    dashboardSessions.enforce(false);
    const open = { _client: { user: { username: 'someone' } } };
    assert.deepEqual(
      hooks.onAddConnectionCredentials({ id: 'x' }, open),
      open,
      "a stock Node-RED's users are left alone",
    );
  });

  it('device-simulator: runs the marked devices, over MQTT with their registry logins and over EOT', async () => {
    const mqttPort = await freePort();
    const eotPort = await freePort();
    const registryBox: { registry?: Registry } = {};
    const broker = await EmbeddedBroker.start({
      dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-dash-broker-')),
      host: '127.0.0.1',
      port: mqttPort,
      policy: {
        async authenticate(username, password): Promise<Principal | null> {
          if (username === 'observer') return { username, service: true };
          const device =
            registryBox.registry && username && password
              ? await registryBox.registry.authenticateMqtt(username, password.toString())
              : null;
          return device ? { username: device.id } : null;
        },
        canPublish: () => true,
        canSubscribe: () => true,
      },
      logger: silentLogger,
    });
    const observer = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      username: 'observer',
      password: 'x',
    });
    const topics = new Set<string>();
    observer.on('message', (t) => topics.add(t));
    await observer.subscribeAsync('#');
    try {
      await load(
        [registryNode, eotServerNode, simulatorNode],
        [
          { id: 'r', type: 'sensflow-registry', store: 'sqlite', file },
          { id: 's', type: 'eot-server', registry: 'r', host: '127.0.0.1', port: String(eotPort) },
          {
            id: 'sim',
            type: 'device-simulator',
            registry: 'r',
            customers: 'acme',
            mqttHost: '127.0.0.1',
            mqttPort: String(mqttPort),
            eotHost: '127.0.0.1',
            eotPort: String(eotPort),
            readingEvery: '0.2',
            statusEvery: '0.5',
            eotRate: '5',
          },
        ],
      );
      const registry = await (helper.getNode('r') as RegistryConfigNode).registry();
      registryBox.registry = registry;
      await waitFor(async () => {
        assert.ok(topics.has('u4/300/co2'), 'the sensor publishes');
        assert.ok(topics.has('u4/300/device'), 'statuses');
        const eot = await registry.findDevice('a-eot');
        assert.ok(eot?.lastSeen, 'the EOT device logged in');
      }, 15_000);
      assert.ok(
        ![...topics].some((t) => t.startsWith('b1/')),
        "only the chosen customer's devices",
      );
      const shutter = await registry.getDevice('a-shutter');
      assert.ok(shutter?.credentialsDelivered, 'credentials issued in the registry');
    } finally {
      await observer.endAsync(true);
      await stopServer();
      await startServer();
      await broker.close();
    }
  });
});
