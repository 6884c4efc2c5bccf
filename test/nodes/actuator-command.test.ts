// actuator-command in a real Node-RED runtime, with the core mqtt-broker node,
// a registry in an SQLite file and simulated shutters, on real Mosquitto and
// on the embedded broker: confirmation, all-units aggregation, retry and
// timeout, bad input (nothing published), a broker restart, a redeploy with a
// pending command, idempotency, and a reinstall that resets credentials.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { MqttClient } from 'mqtt';
import type { Node, NodeMessage } from 'node-red';
import type { CommandResult } from '../../lib/commands/types';
import type { Registry } from '../../lib/registry/registry';
import actuatorCommand from '../../nodes/actuator-command/actuator-command';
import registryNode from '../../nodes/sensflow-registry/sensflow-registry';
import type { RegistryConfigNode } from '../../nodes/sensflow-registry/registry-node';
import { TEST_BROKERS, TestBroker } from '../support/brokers';
import { delay, waitFor } from '../support/net';
import { helper, load, settings, startServer, stopServer } from '../support/node-helper';
import { SimulatedShutter } from '../support/shutter';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const mqttNodes = require('@node-red/nodes/core/network/10-mqtt.js');

type Msg = NodeMessage & { payload: CommandResult; commandId?: string };

for (const [name, makeBroker] of TEST_BROKERS) {
  describe(`actuator-command node with ${name}`, function () {
    this.timeout(30_000);
    let broker: TestBroker;
    let file: string;
    let closers: Array<() => Promise<void>>;
    let results: Msg[];
    let echoes: Msg[];
    let published: string[];

    before(async () => {
      broker = await makeBroker();
      settings({ mqttReconnectTime: 200 });
    });
    after(async () => {
      settings();
      await broker?.close();
    });
    beforeEach(async () => {
      file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-ac-')), 'r.db');
      closers = [];
      results = [];
      echoes = [];
      published = [];
      await startServer();
      // Everything published on a command topic, to prove that refused orders send nothing.
      const spy = await client();
      spy.on('message', (topic, payload) => published.push(`${topic} ${payload}`));
      await spy.subscribeAsync('+/+/+/command', { qos: 1 });
    });
    afterEach(async () => {
      await stopServer();
      for (const close of closers.splice(0).reverse()) await close();
    });

    async function client(): Promise<MqttClient> {
      const c = await mqtt.connectAsync(broker.url, { ...broker.login, reconnectPeriod: 100 });
      closers.push(() => c.endAsync(true));
      return c;
    }

    async function shutter(
      id: string,
      options: {
        delayMs?: number;
        ignore?: number;
        base?: string;
        kind?: string;
        hold?: Promise<unknown>;
      } = {},
    ) {
      const s = await SimulatedShutter.start(broker.url, {
        id,
        base: 'u4/300',
        ...broker.login,
        ...options,
      });
      closers.push(() => s.close());
      return s;
    }

    /** Loads the flow (again, after a redeploy) and the registry's devices. */
    async function deploy(
      settings: Record<string, unknown> = {},
    ): Promise<{ node: Node; registry: Registry }> {
      await load(
        [mqttNodes, registryNode, actuatorCommand],
        [
          { id: 'r', type: 'sensflow-registry', store: 'sqlite', file },
          {
            id: 'b',
            type: 'mqtt-broker',
            broker: '127.0.0.1',
            port: String(broker.port),
            protocolVersion: '4',
            autoConnect: true,
          },
          {
            id: 'ac',
            type: 'actuator-command',
            registry: 'r',
            broker: 'b',
            base: 'u4/300',
            kind: 'shutter',
            dest: 'all',
            // Long enough that a loaded machine never makes a prompt echo
            // late: the tests that count attempts would see a resend.
            ackTimeout: 2,
            attempts: 3,
            ttl: 10,
            customer: 'acme',
            ...settings,
            wires: [['results'], ['echoes']],
          },
          { id: 'results', type: 'helper' },
          { id: 'echoes', type: 'helper' },
        ],
        broker.login ? { b: { user: broker.login.username, password: broker.login.password } } : {},
      );
      helper.getNode('results').on('input', (m: NodeMessage) => results.push(m as Msg));
      helper.getNode('echoes').on('input', (m: NodeMessage) => echoes.push(m as Msg));
      const registry = await (helper.getNode('r') as RegistryConfigNode).registry();
      if ((await registry.customers.list()).length === 0) {
        await registry.customers.add({ id: 'acme', name: 'ACME' });
        await registry.customers.add({ id: 'other', name: 'Other' });
        await registry.types.save({
          name: 'shutter_box',
          orders: { shutter: ['up', 'down', 'stop'] },
        });
        await registry.types.save({ name: 'board' });
        for (const [id, customerId, location] of [
          ['s1', 'acme', 'u4/300'],
          ['s2', 'acme', 'u4/300'],
          ['x1', 'other', 'u4/302'],
        ]) {
          await registry.addDevice({ id, type: 'shutter_box', customerId, location });
        }
        await registry.addDevice({
          id: 'd1',
          type: 'board',
          customerId: 'acme',
          location: 'u4/303',
          uidType: 'ethernet',
          uid: 'aa:bb:cc:dd:ee:01',
        });
      }
      const node = helper.getNode('ac');
      const brokerNode = helper.getNode('b') as Node & { connected: boolean };
      await until(() => brokerNode.connected);
      return { node, registry };
    }

    const until = (check: () => boolean, ms = 10_000) =>
      waitFor(
        async () => {
          if (!check()) throw new Error('not yet');
        },
        ms,
        20,
      );

    function nextError(node: Node): Promise<string> {
      return new Promise((resolve) =>
        node.once('call:error', (call: { firstArg: unknown }) => resolve(String(call.firstArg))),
      );
    }

    it('confirms an order on the unit echo and passes echoes to output 2', async () => {
      const s1 = await shutter('s1', { delayMs: 30 });
      const { node } = await deploy();
      node.receive({ payload: { order: 'up', dest: 's1' }, topic: 'mine' } as NodeMessage);
      await until(() => results.length === 1);
      const r = results[0].payload;
      assert.equal(results[0].topic, 'mine', 'the asking message comes back');
      assert.equal(r.state, 'confirmed');
      assert.equal(r.status, 'open');
      assert.equal(r.attempts, 1);
      assert.deepEqual(r.target, { transport: 'mqtt', base: 'u4/300', kind: 'shutter' });
      assert.deepEqual(s1.received, [{ order: 'up', dest: 's1' }]);
      await until(() => echoes.length === 1);
      assert.equal(echoes[0].topic, 'u4/300/shutter');
      assert.equal(echoes[0].commandId, r.commandId);
      assert.deepEqual(echoes[0].payload, { order: 'idle', unitID: 's1', status: 'open' });
    });

    it('aggregates every unit of the base for a plain order with dest "all"', async () => {
      await shutter('s1', { delayMs: 20 });
      await shutter('s2', { delayMs: 150 });
      const { node } = await deploy();
      node.receive({ payload: 'down' } as NodeMessage);
      await until(() => results.length === 1);
      const r = results[0].payload;
      assert.equal(r.state, 'confirmed');
      assert.deepEqual(r.status, { s1: 'closed', s2: 'closed' });
      assert.deepEqual(
        Object.values(r.units).map((u) => u.state),
        ['confirmed', 'confirmed'],
      );
      assert.equal(published.length, 1, 'one order for all units');
    });

    it('retries, then times out when the unit stays silent', async () => {
      const s1 = await shutter('s1', { ignore: Infinity });
      const { node } = await deploy({ ackTimeout: 0.5 });
      node.receive({ payload: { order: 'stop', dest: 's1' } } as NodeMessage);
      await until(() => results.length === 1);
      assert.equal(results[0].payload.state, 'timeout');
      assert.equal(results[0].payload.attempts, 3);
      assert.equal(s1.orders, 3);
    });

    const BAD: Array<[string, Record<string, unknown>, RegExp]> = [
      [
        'an order unknown for the kind',
        { payload: { order: 'open', dest: 's1' } },
        /order "open" is unknown for shutter on s1/,
      ],
      [
        'a payload that is not JSON',
        { payload: '{"order": "up"' },
        /msg.payload is not valid JSON/,
      ],
      [
        'a dest naming no unit',
        { payload: { order: 'up', dest: 's9' } },
        /no device "s9" in the registry/,
      ],
      [
        'a target in another customer',
        { payload: { order: 'up', dest: 'x1' }, target: { base: 'u4/302', kind: 'shutter' } },
        /x1 belongs to another customer than acme/,
      ],
      [
        'an invalid base topic',
        { payload: 'up', target: { base: 'u4/+', kind: 'shutter' } },
        /level 2 \("\+"\) has a wildcard/,
      ],
    ];
    for (const [what, msg, message] of BAD) {
      it(`refuses ${what} with a clear error, publishing nothing`, async () => {
        const { node } = await deploy();
        const error = nextError(node);
        node.receive(msg as NodeMessage);
        assert.match(await error, message);
        await delay(200);
        assert.deepEqual(published, []);
        assert.deepEqual(results, []);
      });
    }

    it('completes an order across a broker restart, once', async () => {
      // The echo waits until the broker is down, however long stopping it takes.
      let brokerDown!: () => void;
      const hold = new Promise<void>((resolve) => (brokerDown = resolve));
      const s1 = await shutter('s1', { delayMs: 300, hold });
      const { node } = await deploy({ ackTimeout: 1, attempts: 5 });
      node.receive({ payload: { order: 'up', dest: 's1' } } as NodeMessage);
      await until(() => s1.received.length === 1);
      await broker.stop();
      await until(() => !s1.client.connected);
      brokerDown();
      await until(() => s1.lost === 1); // the echo falls due while the broker is down: lost
      await broker.start();
      await until(() => results.length === 1, 15_000);
      assert.equal(results[0].payload.state, 'confirmed');
      assert.ok(results[0].payload.attempts >= 2, 'sent again after the lost echo');
      await delay(1_500);
      assert.equal(results.length, 1);
    });

    it('resumes a pending command after a redeploy and reports it on output 1', async () => {
      const first = await deploy();
      first.node.receive({ payload: { order: 'up', dest: 's1' } } as NodeMessage);
      await until(() => published.length === 1);
      await helper.unload(); // the node stops with its command unanswered
      await shutter('s1');
      await deploy();
      await until(() => results.length === 1);
      assert.equal(results[0].payload.state, 'confirmed');
      assert.equal(results[0].topic, 'u4/300/shutter/command');
    });

    it('takes the commands alarm-rules sends, as they come', async () => {
      await shutter('s1');
      await shutter('s2');
      const { node } = await deploy({ base: '', kind: '' });
      node.receive({
        payload: { order: 'down', dest: 'all' },
        topic: 'u4/300/shutter/command',
        target: { base: 'u4/300', kind: 'shutter' },
        idempotencyKey: 'alarm-1:1:0',
        on: 'raise',
        alarm: { id: 'alarm-1' },
      } as NodeMessage);
      await until(() => results.length === 1);
      assert.equal(results[0].payload.state, 'confirmed');
      assert.deepEqual(Object.keys(results[0].payload.units), ['s1', 's2']);
      assert.deepEqual((results[0] as NodeMessage & { alarm?: unknown }).alarm, { id: 'alarm-1' });
    });

    it('sends an order with an idempotency key once', async () => {
      const s1 = await shutter('s1');
      const { node } = await deploy();
      node.receive({ payload: { order: 'up', dest: 's1' }, idempotencyKey: 'k-7' } as NodeMessage);
      await until(() => results.length === 1);
      node.receive({ payload: { order: 'up', dest: 's1' }, idempotencyKey: 'k-7' } as NodeMessage);
      await until(() => results.length === 2);
      assert.equal(results[1].payload.duplicate, true);
      assert.equal(results[1].payload.commandId, results[0].payload.commandId);
      await delay(200);
      assert.equal(s1.received.length, 1);
    });

    it('resets the credentials of a device it reinstalls', async () => {
      await shutter('d1', { base: 'u4/303', kind: 'device' });
      const { node, registry } = await deploy();
      assert.ok((await registry.credentialsForUid('aa:bb:cc:dd:ee:01')).password, 'first delivery');
      assert.equal((await registry.getDevice('d1'))?.credentialsDelivered, true);
      node.receive({
        payload: { order: 'reinstall', dest: 'd1' },
        target: { base: 'u4/303', kind: 'device' },
      } as NodeMessage);
      await until(() => results.length === 1);
      assert.equal(results[0].payload.state, 'confirmed');
      assert.equal(results[0].payload.credentialsReset, true);
      assert.equal((await registry.getDevice('d1'))?.credentialsDelivered, false);
      assert.ok(
        (await registry.credentialsForUid('aa:bb:cc:dd:ee:01')).password,
        'a new password for the reinstalled device',
      );
    });
  });
}
