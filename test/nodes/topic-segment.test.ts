// topic-segment in a real Node-RED runtime: parse and route by kind and by
// filters, build topics, refuse bad topics, and take messages straight from the
// core `mqtt in` node on the embedded broker.
import assert from 'node:assert/strict';
import type { Node, NodeMessage } from 'node-red';
import { serviceLogin } from '../../lib/broker/service-policy';
import topicSegment from '../../nodes/topic-segment/topic-segment';
import { embeddedWithClient } from '../support/brokers';
import { helper, load, startServer, stopServer, subscribed } from '../support/node-helper';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const mqttNodes = require('@node-red/nodes/core/network/10-mqtt.js');

type Msg = NodeMessage & { segments?: Record<string, unknown> };

/** Collects what each of `count` helper nodes (h0, h1, ...) receives. */
function collect(count: number): Msg[][] {
  const got: Msg[][] = Array.from({ length: count }, () => []);
  for (let i = 0; i < count; i++) helper.getNode(`h${i}`).on('input', (m: Msg) => got[i].push(m));
  return got;
}

function helpers(count: number) {
  return Array.from({ length: count }, (_v, i) => ({ id: `h${i}`, type: 'helper' }));
}

/** The next error the node reports (done(err) ends in node.error). */
function nextError(node: Node): Promise<string> {
  return new Promise((resolve) =>
    node.once('call:error', (call: { firstArg: unknown }) => resolve(String(call.firstArg))),
  );
}

async function settle() {
  await new Promise((r) => setTimeout(r, 50));
}

describe('topic-segment node', function () {
  this.timeout(20_000);
  beforeEach(startServer);
  afterEach(stopServer);

  it('adds msg.segments and routes by kind, with an otherwise output', async () => {
    await load(
      [topicSegment],
      [
        {
          id: 'ts',
          type: 'topic-segment',
          mode: 'parse',
          routeBy: 'kind',
          rules: [{ v: 'temperature' }, { v: 'device' }],
          outputs: 3,
          wires: [['h0'], ['h1'], ['h2']],
        },
        ...helpers(3),
      ],
    );
    const got = collect(3);
    const ts = helper.getNode('ts');
    ts.receive({ topic: 'u4/300/temperature', payload: 21.5 } as NodeMessage);
    ts.receive({ topic: 'abroad/carcassonne/b1/12/device', payload: {} } as NodeMessage);
    ts.receive({ topic: 'outside/ambient/rain', payload: 1 } as NodeMessage);
    await settle();
    assert.equal(got[0].length, 1);
    assert.deepEqual(got[0][0].segments, {
      site: 'UT3',
      outdoor: false,
      location: ['u4', '300'],
      building: 'u4',
      room: '300',
      kind: 'temperature',
      command: false,
      status: false,
      base: 'u4/300',
    });
    assert.equal(got[1].length, 1);
    assert.equal(got[1][0].segments?.site, 'carcassonne');
    assert.equal(got[1][0].segments?.status, true);
    assert.deepEqual(
      got[2].map((m) => m.topic),
      ['outside/ambient/rain'],
    );
  });

  it('routes by filters to every matching output, like subscriptions', async () => {
    await load(
      [topicSegment],
      [
        {
          id: 'ts',
          type: 'topic-segment',
          mode: 'parse',
          routeBy: 'filter',
          rules: [{ v: 'u4/+/temperature' }, { v: 'u4/#' }, { v: '+/+/shutter/command' }],
          outputs: 4,
          wires: [['h0'], ['h1'], ['h2'], ['h3']],
        },
        ...helpers(4),
      ],
    );
    const got = collect(4);
    const ts = helper.getNode('ts');
    for (const topic of [
      'u4/300/temperature',
      'u4/hall/box1/temperature',
      'bu/hall/shutter/command',
      'bu/hall/co2',
    ]) {
      ts.receive({ topic } as NodeMessage);
    }
    await settle();
    assert.deepEqual(
      got.map((g) => g.map((m) => m.topic)),
      [
        ['u4/300/temperature'],
        ['u4/300/temperature', 'u4/hall/box1/temperature'],
        ['bu/hall/shutter/command'],
        ['bu/hall/co2'],
      ],
    );
    assert.notEqual(got[0][0], got[1][0], 'each output gets its own copy');
  });

  it('takes its default site from SENSFLOW_SITE', async () => {
    process.env.SENSFLOW_SITE = 'carcassonne';
    try {
      await load(
        [topicSegment],
        [
          { id: 'ts', type: 'topic-segment', mode: 'parse', routeBy: 'none', wires: [['h0']] },
          ...helpers(1),
        ],
      );
      const got = collect(1);
      helper.getNode('ts').receive({ topic: 'b1/12/temperature' } as NodeMessage);
      await settle();
      assert.equal(got[0][0].segments?.site, 'carcassonne');
    } finally {
      delete process.env.SENSFLOW_SITE;
    }
  });

  it('builds msg.topic from msg.segments over its settings', async () => {
    await load(
      [topicSegment],
      [
        {
          id: 'tb',
          type: 'topic-segment',
          mode: 'build',
          base: 'u4/300',
          kind: 'shutter',
          topicType: 'command',
          wires: [['h0']],
        },
        ...helpers(1),
      ],
    );
    const got = collect(1);
    const tb = helper.getNode('tb');
    tb.receive({ payload: 'up' } as NodeMessage);
    tb.receive({ segments: { building: 'bu', room: 'hall' } } as unknown as NodeMessage);
    tb.receive({
      segments: { site: 'carcassonne', outdoor: true, kind: 'lighting' },
    } as unknown as NodeMessage);
    tb.receive({ segments: { base: 'outside/ambient', status: true } } as unknown as NodeMessage);
    await settle();
    assert.deepEqual(
      got[0].map((m) => m.topic),
      [
        'u4/300/shutter/command',
        'bu/hall/shutter/command',
        'abroad/carcassonne/outside/lighting/command',
        'outside/ambient/device',
      ],
    );
  });

  it('refuses bad topics with a clear error and sends nothing', async () => {
    await load(
      [topicSegment],
      [
        {
          id: 'ts',
          type: 'topic-segment',
          mode: 'parse',
          routeBy: 'kind',
          rules: [{ v: 'temperature' }],
          outputs: 2,
          wires: [['h0'], ['h1']],
        },
        ...helpers(2),
      ],
    );
    const got = collect(2);
    const ts = helper.getNode('ts');
    for (const [topic, message] of [
      ['u4//temperature', /level 2 is empty/],
      ['u4/+/temperature', /wildcard/],
      ['u4/300/Temperature', /lower-case/],
      [undefined, /must be a string/],
    ] as const) {
      const error = nextError(ts);
      ts.receive({ topic } as NodeMessage);
      assert.match(await error, message);
    }
    await settle();
    assert.deepEqual(got, [[], []]);
  });

  it('reports an invalid filter at deploy and fails every message', async () => {
    await load(
      [topicSegment],
      [
        {
          id: 'ts',
          type: 'topic-segment',
          mode: 'parse',
          routeBy: 'filter',
          rules: [{ v: '#/device' }],
          outputs: 2,
          wires: [['h0'], ['h1']],
        },
        ...helpers(2),
      ],
    );
    const ts = helper.getNode('ts');
    const error = nextError(ts);
    ts.receive({ topic: 'u4/300/device' } as NodeMessage);
    assert.match(await error, /rule 1: filter "#\/device": level 1: # may only be the last level/);
  });

  it('routes what the core mqtt in node receives from the embedded broker', async () => {
    const login = serviceLogin('topic-segment-test');
    const { broker, client, close } = await embeddedWithClient(login);
    try {
      await load(
        [mqttNodes, topicSegment],
        [
          {
            id: 'b',
            type: 'mqtt-broker',
            broker: '127.0.0.1',
            port: String(broker.ports.tcp),
            protocolVersion: '4',
            autoConnect: true,
          },
          {
            id: 'in',
            type: 'mqtt in',
            broker: 'b',
            topic: '#',
            qos: '1',
            datatype: 'json',
            wires: [['ts']],
          },
          {
            id: 'ts',
            type: 'topic-segment',
            mode: 'parse',
            routeBy: 'kind',
            rules: [{ v: 'shutter' }],
            outputs: 2,
            wires: [['h0'], ['h1']],
          },
          ...helpers(2),
        ],
        { b: { user: login.username, password: login.password } },
      );
      const got = collect(2);
      const inNode = helper.getNode('in') as Node & {
        brokerConn: { connected: boolean; subscriptions: Record<string, unknown> };
      };
      await waitUntil(() => inNode.brokerConn.connected);
      await subscribed(inNode.brokerConn, '#');
      await client.publishAsync(
        'u4/campusfab/shutter',
        JSON.stringify({ order: 'idle', unitID: 's1', status: 'open' }),
        { qos: 1 },
      );
      await client.publishAsync('u4/campusfab/temperature', JSON.stringify({ value: 21.5 }), {
        qos: 1,
      });
      await waitUntil(() => got[0].length === 1 && got[1].length === 1);
      assert.equal(got[0][0].segments?.room, 'campusfab');
      assert.deepEqual(got[0][0].payload, { order: 'idle', unitID: 's1', status: 'open' });
      assert.equal(got[1][0].segments?.kind, 'temperature');
    } finally {
      await helper.unload();
      await close();
    }
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
