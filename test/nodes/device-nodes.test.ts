// The device-watchdog and device-lookup nodes in a real Node-RED runtime, on
// a registry in an SQLite file: watchdog events reach the flow; lookups add
// public fields only and fail clearly without a key.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Node, NodeMessage } from 'node-red';
import lookupNode from '../../nodes/device-lookup/device-lookup';
import watchdogNode from '../../nodes/device-watchdog/device-watchdog';
import registryNode from '../../nodes/sensflow-registry/sensflow-registry';
import type { RegistryConfigNode } from '../../nodes/sensflow-registry/registry-node';
import { delay, waitFor } from '../support/net';
import { callsOf, helper, load, startServer, stopServer } from '../support/node-helper';

type Spied = Node & { on(event: string, fn: (...args: unknown[]) => void): void };

describe('device-watchdog and device-lookup nodes', function () {
  this.timeout(30_000);
  let file: string;

  beforeEach(async () => {
    file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-dnodes-')), 'r.db');
    await startServer();
  });
  afterEach(async () => {
    await stopServer();
  });

  async function registryOf(id: string) {
    const registry = await (helper.getNode(id) as RegistryConfigNode).registry();
    if ((await registry.customers.list()).length === 0)
      await registry.customers.add({ id: 'acme', name: 'ACME' });
    return registry;
  }

  it('sends online, outdated and back events for a device', async () => {
    await load(
      [registryNode, watchdogNode],
      [
        { id: 'r', type: 'sensflow-registry', store: 'sqlite', file },
        { id: 'w', type: 'device-watchdog', registry: 'r', repeat: 0, wires: [['out']] },
        { id: 'out', type: 'helper' },
      ],
    );
    const registry = await registryOf('r');
    await registry.addDevice({
      id: 'mkr-01',
      type: 'mkr1000',
      customerId: 'acme',
      location: 'u4/300',
      outdatedAfterMs: 1000,
    });
    const got: NodeMessage[] = [];
    helper.getNode('out').on('input', (msg: NodeMessage) => got.push(msg));
    // The watchdog starts in the background and shows its counts once it
    // watches: a sign of life before then would go unseen.
    const watchdog = helper.getNode('w');
    await waitFor(
      async () => assert.ok(callsOf(watchdog, 'status').length > 0, 'the watchdog started'),
      10_000,
    );
    const seenAt = Date.now();
    await registry.markSeen('mkr-01', seenAt);
    const states = () => got.map((m) => (m.payload as { state: string }).state);
    // Silent for more than its 1 s threshold.
    await waitFor(async () => assert.ok(states().includes('outdated'), states().join()), 10_000);
    await registry.markSeen('mkr-01', Date.now());
    await waitFor(async () => assert.ok(states().includes('back'), states().join()), 10_000);
    await delay(100); // a chance for an event too many
    assert.deepEqual(
      got.map((m) => (m.payload as { state: string }).state),
      ['online', 'outdated', 'back'],
    );
    assert.equal(got[0].topic, 'mkr-01');
    assert.deepEqual(got[1].payload, { deviceId: 'mkr-01', state: 'outdated', lastSeen: seenAt });
  });

  it('adds msg.device for a device id or a topic, public fields only', async () => {
    await load(
      [registryNode, lookupNode],
      [
        { id: 'r', type: 'sensflow-registry', store: 'sqlite', file },
        { id: 'l', type: 'device-lookup', registry: 'r', wires: [['out']] },
        { id: 'out', type: 'helper' },
      ],
    );
    const registry = await registryOf('r');
    await registry.addDevice({
      id: 'mkr-01',
      type: 'mkr1000',
      customerId: 'acme',
      location: 'u4/300',
      serial: 'secret-serial-1',
      config: { interval: 60 },
    });
    const lookup = helper.getNode('l');
    const next = () =>
      new Promise<NodeMessage & { device?: Record<string, unknown> | null; devices?: unknown[] }>(
        (resolve) => helper.getNode('out').once('input', resolve),
      );
    let answer = next();
    lookup.receive({ deviceId: 'mkr-01' } as NodeMessage);
    const byId = await answer;
    assert.equal(byId.device?.location, 'u4/300');
    assert.deepEqual(byId.device?.config, { interval: 60 });
    assert.deepEqual(Object.keys(byId.device ?? {}).sort(), [
      'config',
      'customerId',
      'description',
      'enabled',
      'id',
      'lastSeen',
      'lastStatus',
      'location',
      'outdatedAfterMs',
      'type',
      'uid',
      'uidType',
    ]);
    assert.ok(!JSON.stringify(byId).includes('secret-serial-1'));
    answer = next();
    lookup.receive({ topic: 'u4/300/shutter/command' });
    assert.equal((await answer).device?.id, 'mkr-01');
    answer = next();
    lookup.receive({ topic: 'u4/999/temperature' });
    const none = await answer;
    assert.deepEqual([none.device, none.devices], [null, []]);

    // Answers are cached, yet a registry change is seen by the next message,
    // and a flow changing msg.device does not change the next answer.
    answer = next();
    lookup.receive({ topic: 'u4/300/temperature' });
    const first = await answer;
    (first.device!.config as { interval: number }).interval = 1;
    await registry.addDevice({
      id: 'mkr-02',
      type: 'mkr1000',
      customerId: 'acme',
      location: 'u4/300',
    });
    answer = next();
    lookup.receive({ topic: 'u4/300/temperature' });
    const both = await answer;
    assert.deepEqual(
      (both.devices as Array<{ id: string }>).map((d) => d.id),
      ['mkr-01', 'mkr-02'],
    );
    assert.equal(both.device, null); // two devices at that base: none is "the" device
    await registry.updateDevice('mkr-01', { location: 'u4/301' });
    answer = next();
    lookup.receive({ deviceId: 'mkr-01' } as NodeMessage);
    const moved = await answer;
    assert.equal(moved.device?.location, 'u4/301');
    assert.deepEqual(moved.device?.config, { interval: 60 });

    const failed = new Promise<unknown>((resolve) =>
      (lookup as Spied).on('call:error', (call: unknown) => resolve(call)),
    );
    lookup.receive({ payload: 1 } as NodeMessage);
    const call = (await failed) as { args: unknown[] };
    // The helper runs without the node's message catalog: the key stands for the text.
    assert.match(String(call.args[0]), /device-lookup.errors.no-key|msg.deviceId or msg.topic/);
  });
});
