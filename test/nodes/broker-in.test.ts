// broker-in in a real Node-RED runtime: in process on the embedded broker
// (the same messages as the core `mqtt in` node, no connection of its own,
// unsubscribed on close and redeploy), and through the config node's
// connection to a real Mosquitto, or with a bad setting.
import assert from 'node:assert/strict';
import mqtt, { MqttClient } from 'mqtt';
import type { Node, NodeMessage } from 'node-red';
import type { EmbeddedBroker } from '../../lib/broker/embedded-broker';
import {
  aedesInProcess,
  InProcessBroker,
  inProcessBroker,
  setInProcessBroker,
} from '../../lib/broker/in-process';
import { serviceLogin } from '../../lib/broker/service-policy';
import brokerIn from '../../nodes/broker-in/broker-in';
import { embeddedWithClient } from '../support/brokers';
import { callsOf, helper, load, startServer, stopServer, subscribed } from '../support/node-helper';
import { startMosquitto } from '../support/services';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const mqttNodes = require('@node-red/nodes/core/network/10-mqtt.js');

const login = serviceLogin('broker-in-test');

type FlowNode = { id: string; type: string; [key: string]: unknown };
type Status = { fill?: string; text?: string };

function configNode(
  port: number,
  withLogin = true,
): { flow: FlowNode; credentials: Record<string, Record<string, string>> } {
  return {
    flow: {
      id: 'b',
      type: 'mqtt-broker',
      broker: '127.0.0.1',
      port: String(port),
      protocolVersion: '4',
      autoConnect: true,
    },
    credentials: withLogin ? { b: { user: login.username, password: login.password } } : {},
  };
}

function brokerInNode(extra: Record<string, unknown> = {}) {
  return {
    id: 'in',
    type: 'broker-in',
    broker: 'b',
    topic: '+/+/+',
    qos: '0',
    datatype: 'auto-detect',
    wires: [['h']],
    ...extra,
  };
}

function collect(id = 'h'): NodeMessage[] {
  const got: NodeMessage[] = [];
  helper.getNode(id).on('input', (m: NodeMessage) => got.push(m));
  return got;
}

const statuses = (node: Node) => callsOf(node, 'status') as Status[];

const shape = ({ topic, payload, qos, retain }: NodeMessage & Record<string, unknown>) => ({
  topic,
  payload,
  qos,
  retain,
});

describe('broker-in node', function () {
  this.timeout(30_000);
  let broker: EmbeddedBroker;
  let client: MqttClient;
  let closeBroker: () => Promise<void>;
  let active: number;

  beforeEach(async () => {
    await startServer();
    ({ broker, client, close: closeBroker } = await embeddedWithClient(login));
    // The real in-process side, counting the subscriptions it holds.
    const real = aedesInProcess(broker.aedes, '127.0.0.1', broker.ports.tcp);
    active = 0;
    const counting: InProcessBroker = {
      serves: (host, port) => real.serves(host, port),
      async subscribe(filter, qos, deliver) {
        const unsubscribe = await real.subscribe(filter, qos, deliver);
        active++;
        return async () => {
          await unsubscribe();
          active--;
        };
      },
    };
    setInProcessBroker(counting);
  });

  afterEach(async () => {
    setInProcessBroker(undefined);
    await stopServer();
    await closeBroker();
  });

  it('sends what the core mqtt in node sends, in process, without a connection', async () => {
    await client.publishAsync('u4/300/device', '{"status":"up"}', { qos: 1, retain: true });
    await new Promise((r) => setTimeout(r, 100));
    const { flow, credentials } = configNode(broker.ports.tcp);
    await load(
      [mqttNodes, brokerIn],
      [
        flow,
        brokerInNode(),
        {
          id: 'core',
          type: 'mqtt in',
          broker: 'b',
          topic: '+/+/+',
          qos: '0',
          datatype: 'auto-detect',
          wires: [['hc']],
        },
        { id: 'h', type: 'helper' },
        { id: 'hc', type: 'helper' },
      ],
      credentials,
    );
    const got = collect();
    const core = collect('hc');
    const inNode = helper.getNode('in');
    await waitUntil(() => active === 1 && got.length === 1 && core.length === 1);
    assert.deepEqual(statuses(inNode).at(-1), {
      fill: 'green',
      shape: 'dot',
      text: 'broker-in.status.in-process',
    });

    const reading = { value: 21.5, value_units: 'C', unitID: 'esp32-1' };
    await client.publishAsync('u4/300/temperature', JSON.stringify(reading), { qos: 1 });
    await client.publishAsync('u4/300/rain', 'heavy', { qos: 0 });
    await waitUntil(() => got.length === 3 && core.length === 3);
    // The live messages as the core node gets them; the retained one differs
    // in its QoS only: aedes hands a network subscriber a retained message at
    // the QoS it was published with, broker-in at the lower of the two, as
    // MQTT 3.1.1 (3.8.4) says.
    assert.deepEqual(got.slice(1).map(shape), core.slice(1).map(shape));
    assert.deepEqual(shape(core[0]), { ...shape(got[0]), qos: 1 });
    assert.deepEqual(got.map(shape), [
      { topic: 'u4/300/device', payload: { status: 'up' }, qos: 0, retain: true },
      { topic: 'u4/300/temperature', payload: reading, qos: 0, retain: false },
      { topic: 'u4/300/rain', payload: 'heavy', qos: 0, retain: false },
    ]);
    // The broker holds two connections: the test's and the core node's, none of broker-in.
    assert.equal(broker.aedes.connectedClients, 2);
  });

  it('unsubscribes on redeploy and on close, and sends nothing after', async () => {
    const { flow, credentials } = configNode(broker.ports.tcp);
    await load(
      [mqttNodes, brokerIn],
      [flow, brokerInNode(), { id: 'h', type: 'helper' }],
      credentials,
    );
    await waitUntil(() => active === 1);
    const inNode = helper.getNode('in');
    const sent = () => callsOf(inNode, 'send');
    await client.publishAsync('u4/1/co2', '{"value":900}', { qos: 1 });
    await waitUntil(() => sent().length === 1);

    // Redeploy with another filter: the old subscription goes, the new one comes.
    await helper.setFlows(
      [flow, brokerInNode({ topic: '+/+/humidity' }), { id: 'h', type: 'helper' }],
      'full',
      credentials,
    );
    await waitUntil(() => active === 1 && helper.getNode('in') !== inNode);
    const after = helper.getNode('in');
    const sentAfter = () => callsOf(after, 'send');
    await client.publishAsync('u4/1/co2', '{"value":901}', { qos: 1 });
    await client.publishAsync('u4/1/humidity', '{"value":40}', { qos: 1 });
    await waitUntil(() => sentAfter().length === 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sent().length, 1, 'the closed node sent nothing more');
    assert.equal((sentAfter()[0] as NodeMessage).topic, 'u4/1/humidity');

    await helper.unload();
    assert.equal(active, 0, 'unsubscribed on close');
    await client.publishAsync('u4/1/humidity', '{"value":41}', { qos: 1 });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sentAfter().length, 1);
  });

  it('subscribes through the config node when its broker is another one (Mosquitto)', async () => {
    const mosquitto = await startMosquitto();
    const other = await mqtt.connectAsync(mosquitto.url, { reconnectPeriod: 0 });
    try {
      const { flow } = configNode(mosquitto.port, false);
      await load(
        [mqttNodes, brokerIn],
        [flow, brokerInNode({ qos: '1' }), { id: 'h', type: 'helper' }],
      );
      const got = collect();
      const inNode = helper.getNode('in') as Node;
      const config = helper.getNode('b') as Node & { connected: boolean };
      await waitUntil(() => config.connected);
      await subscribed(config, '+/+/+');
      await other.publishAsync('u4/2/temperature', '{"value":19}', { qos: 1 });
      await waitUntil(() => got.length === 1);
      assert.deepEqual(shape(got[0]), {
        topic: 'u4/2/temperature',
        payload: { value: 19 },
        qos: 1,
        retain: false,
      });
      assert.equal(active, 0, 'not in process');
      await waitUntil(() => statuses(inNode).at(-1)?.text === 'node-red:common.status.connected');
      assert.ok(!statuses(inNode).some((s) => s.text === 'broker-in.status.in-process'));
      assert.equal(inProcessBroker()?.serves('127.0.0.1', mosquitto.port), false);

      await helper.unload();
      await waitUntil(() => !config.connected);
    } finally {
      await other.endAsync(true);
      await mosquitto.process.stop();
    }
  });

  it('without an in-process broker, subscribes through the config node (a stock Node-RED)', async () => {
    setInProcessBroker(undefined);
    const { flow, credentials } = configNode(broker.ports.tcp);
    await load(
      [mqttNodes, brokerIn],
      [flow, brokerInNode(), { id: 'h', type: 'helper' }],
      credentials,
    );
    const got = collect();
    const config = helper.getNode('b') as Node & { connected: boolean };
    await waitUntil(() => config.connected);
    await subscribed(config, '+/+/+');
    await client.publishAsync('u4/3/luminosity', '{"value":300}', { qos: 1 });
    await waitUntil(() => got.length === 1);
    assert.deepEqual(shape(got[0]).payload, { value: 300 });
    assert.equal(broker.aedes.connectedClients, 2, "the test's and the config node's");
  });

  it('refuses a bad filter or a missing server, with a red status', async () => {
    const { flow, credentials } = configNode(broker.ports.tcp);
    await load(
      [mqttNodes, brokerIn],
      [flow, brokerInNode({ topic: 'u4/#/x' }), { id: 'h', type: 'helper' }],
      credentials,
    );
    const bad = helper.getNode('in');
    assert.match(String(callsOf(bad, 'error')[0]), /# may only be the last level/);
    assert.equal(statuses(bad).at(-1)?.text, 'broker-in.status.config');
    assert.equal(active, 0);
    await helper.unload();
    await load(
      [mqttNodes, brokerIn],
      [brokerInNode({ broker: 'missing' }), { id: 'h', type: 'helper' }],
    );
    const missing = helper.getNode('in');
    assert.match(
      String(callsOf(missing, 'error')[0]),
      /broker-in: (broker-in\.errors\.missing-config|no MQTT broker configured)$/,
    );
    assert.equal(statuses(missing).at(-1)?.text, 'broker-in.status.config');
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
