// sensor-reading in a real Node-RED runtime: tags a registered device's
// reading for history and the rules (two messages of their own), picks the
// device a payload names, ignores what is no reading, batches chart points
// per period, and refuses messages without segments.
import assert from 'node:assert/strict';
import type { Node, NodeMessage } from 'node-red';
import sensorReading from '../../nodes/sensor-reading/sensor-reading';
import { waitFor } from '../support/net';
import { helper, load, startServer, stopServer } from '../support/node-helper';

type Msg = NodeMessage & Record<string, unknown>;

function collect(count: number): Msg[][] {
  const got: Msg[][] = Array.from({ length: count }, () => []);
  for (let i = 0; i < count; i++) helper.getNode(`h${i}`).on('input', (m: Msg) => got[i].push(m));
  return got;
}

function nextError(node: Node): Promise<string> {
  return new Promise((resolve) =>
    node.once('call:error', (call: { firstArg: unknown }) => resolve(String(call.firstArg))),
  );
}

const settle = (ms = 50) => new Promise((r) => setTimeout(r, ms));

const a = { id: 'dev-a', customerId: 'acme' };
const b = { id: 'dev-b', customerId: 'globex' };

function reading(kind: string, location: string[], payload: unknown, extra: object = {}) {
  return {
    topic: `${location.join('/')}/${kind}`,
    payload,
    segments: { kind, location, building: location[0], room: location[1] },
    device: a,
    ...extra,
  };
}

describe('sensor-reading node', function () {
  this.timeout(20_000);
  beforeEach(startServer);
  afterEach(stopServer);

  async function start(period: number | string = 0.2) {
    await load(
      [sensorReading],
      [
        { id: 'sr', type: 'sensor-reading', period, wires: [['h0'], ['h1'], ['h2']] },
        { id: 'h0', type: 'helper' },
        { id: 'h1', type: 'helper' },
        { id: 'h2', type: 'helper' },
      ],
    );
    return { node: helper.getNode('sr'), got: collect(3) };
  }

  it('sends history and the rules a tagged reading each, as messages of their own', async () => {
    const { node, got } = await start();
    const payload = { value: 21.5, value_units: 'C', unitID: 'dev-a' };
    node.receive(reading('temperature', ['b1', 'r1'], payload, { devices: [a], qos: 1 }) as never);
    await waitFor(async () => assert.ok(got[0].length >= 1 && got[1].length >= 1), 5000);
    await settle(); // a chance for a message too many
    assert.equal(got[0].length, 1);
    assert.equal(got[1].length, 1);
    const [history, rules] = [got[0][0], got[1][0]];
    for (const m of [history, rules]) {
      assert.deepEqual(m.payload, payload);
      assert.equal(m.topic, 'b1/r1/temperature');
      assert.deepEqual(m.segments, {
        kind: 'temperature',
        location: ['b1', 'r1'],
        building: 'b1',
        room: 'r1',
      });
      assert.equal(m.deviceId, 'dev-a');
      assert.deepEqual(m.tags, { customer: 'acme' });
      assert.equal(m._customer, 'acme');
      assert.equal(m.device, undefined, 'no device records');
      assert.equal(m.devices, undefined);
    }
    assert.notEqual(history, rules);
    assert.notEqual(history.payload, rules.payload, 'nothing shared between the two');
    assert.notEqual(history.segments, rules.segments);
    assert.notEqual(history.tags, rules.tags);
  });

  it('takes the device the payload names among those at the base topic', async () => {
    const { node, got } = await start();
    node.receive(
      reading(
        'co2',
        ['b1', 'r2'],
        { value: 600, unitID: 'dev-b' },
        { device: null, devices: [a, b] },
      ) as never,
    );
    node.receive(reading('co2', ['b1', 'r2'], 610, { device: null, devices: [a, b] }) as never);
    await waitFor(async () => assert.ok(got[0].length >= 2), 5000);
    await settle(); // a chance for a message too many
    assert.deepEqual(
      got[0].map((m) => [m.deviceId, m._customer]),
      [
        ['dev-b', 'globex'],
        ['dev-a', 'acme'],
      ],
    );
  });

  it('ignores readings that are no number and readings of no registered device', async () => {
    const { node, got } = await start();
    node.receive(reading('temperature', ['b1', 'r1'], 'warm') as never);
    node.receive(reading('temperature', ['b1', 'r1'], { value: Number.NaN }) as never);
    node.receive(reading('temperature', ['b1', 'r1'], 20, { device: null }) as never);
    await settle(400);
    assert.deepEqual(
      got.map((g) => g.length),
      [0, 0, 0],
    );
  });

  it('sends the latest point of each line once per period, by kind and customer', async () => {
    const { node, got } = await start(0.2);
    node.receive(reading('temperature', ['b1', 'r1'], 20) as never);
    node.receive(reading('temperature', ['b1', 'r1'], 21) as never);
    node.receive(reading('temperature', ['b1', 'r2'], 19) as never);
    node.receive(reading('temperature', ['b2', 'r1'], 18, { device: b }) as never);
    node.receive(reading('humidity', ['b1', 'r1'], 40) as never);
    await settle();
    assert.equal(got[2].length, 0, 'not before the period ends');
    await waitFor(async () => assert.ok(got[2].length >= 3), 5000);
    const batches = got[2].map((m) => ({
      kind: m.kind,
      topic: m.topic,
      customer: m._customer,
      points: (m.payload as Array<{ x: number; y: number; series: string }>).map((p) => [
        p.series,
        p.y,
        typeof p.x,
      ]),
    }));
    assert.deepEqual(batches, [
      {
        kind: 'temperature',
        topic: 'acme',
        customer: 'acme',
        points: [
          ['b1/r1', 21, 'number'],
          ['b1/r2', 19, 'number'],
        ],
      },
      {
        kind: 'temperature',
        topic: 'globex',
        customer: 'globex',
        points: [['b2/r1', 18, 'number']],
      },
      { kind: 'humidity', topic: 'acme', customer: 'acme', points: [['b1/r1', 40, 'number']] },
    ]);
    await settle(300);
    assert.equal(got[2].length, 3, 'nothing more without readings');
  });

  it('refuses a message without segments, and a bad period, with a clear error', async () => {
    const { node, got } = await start();
    const error = nextError(node);
    node.receive({ topic: 'x', payload: 20, device: a } as never);
    assert.match(await error, /segments/);
    await stopServer();
    await startServer();
    const bad = await start('soon');
    const refused = nextError(bad.node);
    bad.node.receive(reading('temperature', ['b1', 'r1'], 20) as never);
    assert.match(await refused, /period/);
    await settle();
    assert.deepEqual(
      [...got, ...bad.got].map((g) => g.length),
      [0, 0, 0, 0, 0, 0],
    );
  });
});
