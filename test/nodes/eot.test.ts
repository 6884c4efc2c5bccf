// The EOT nodes in a real Node-RED runtime with the real registry on SQLite:
// eot-server listens and logs devices in, eot-in hands their frames to the
// flow (filtered), eot-out sends frames and fails for unknown or foreign devices.
import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Node, NodeMessage } from 'node-red';
import { EotClient } from '../../lib/eot/client';
import type { Registry } from '../../lib/registry/registry';
import eotIn from '../../nodes/eot-in/eot-in';
import eotOut from '../../nodes/eot-out/eot-out';
import eotServer from '../../nodes/eot-server/eot-server';
import type { EotServerConfigNode } from '../../nodes/eot-server/eot-server-node';
import registryNode from '../../nodes/sensflow-registry/sensflow-registry';
import type { RegistryConfigNode } from '../../nodes/sensflow-registry/registry-node';
import { delay, waitFor } from '../support/net';
import { helper, load, startServer, stopServer } from '../support/node-helper';

type Spy = Node & { on(event: 'input', fn: (msg: NodeMessage) => void): void };

describe('EOT nodes', function () {
  this.timeout(30_000);
  let registry: Registry;
  let port: number;
  const serials: Record<string, string> = {};
  const clients: EotClient[] = [];

  async function device(id: string, type: string): Promise<EotClient> {
    const client = await EotClient.connect({ port });
    clients.push(client);
    assert.ok(await client.login({ id, type, serial: serials[id] }), `${id} logs in`);
    return client;
  }

  beforeEach(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-eot-nodes-'));
    await startServer();
    await load(
      [registryNode, eotServer, eotIn, eotOut],
      [
        { id: 'tab', type: 'tab' },
        { id: 'r1', type: 'sensflow-registry', store: 'sqlite', file: path.join(dir, 'r.db') },
        {
          id: 's1',
          type: 'eot-server',
          registry: 'r1',
          host: '127.0.0.1',
          port: '0',
          throttleFailures: 1000,
        },
        {
          id: 'in1',
          type: 'eot-in',
          z: 'tab',
          server: 's1',
          types: 'READING, ALARM',
          device: '',
          wires: [['h1']],
        },
        {
          id: 'in2',
          type: 'eot-in',
          z: 'tab',
          server: 's1',
          types: '',
          device: 'lamp-07',
          wires: [['h2']],
        },
        { id: 'out1', type: 'eot-out', z: 'tab', server: 's1' },
        { id: 'h1', type: 'helper', z: 'tab' },
        { id: 'h2', type: 'helper', z: 'tab' },
      ],
    );
    registry = await (helper.getNode('r1') as RegistryConfigNode).registry();
    await registry.customers.add({ id: 'acme', name: 'ACME' });
    await registry.customers.add({ id: 'globex', name: 'Globex' });
    for (const [id, type, customerId] of [
      ['mkr-01', 'mkr1000', 'acme'],
      ['lamp-07', 'esp32', 'acme'],
      ['gx-1', 'mkr1000', 'globex'],
    ]) {
      serials[id] = (await registry.addDevice({ id, type, customerId, location: 'u4/300' })).serial;
    }
    const server = await (helper.getNode('s1') as EotServerConfigNode).server();
    port = server.ports.port!;
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await stopServer();
  });

  it('hands frames to eot-in, filtered by type and by device', async () => {
    const h1 = helper.getNode('h1') as Spy;
    const h2 = helper.getNode('h2') as Spy;
    const byType: NodeMessage[] = [];
    const byDevice: NodeMessage[] = [];
    h1.on('input', (m) => byType.push(m));
    h2.on('input', (m) => byDevice.push(m));
    const mkr = await device('mkr-01', 'mkr1000');
    const lamp = await device('lamp-07', 'esp32');
    mkr.send({
      origin: 'mkr-01',
      destination: 'SERVER',
      type: 'READING',
      fields: ['temperature', '21.5', 'C', ''],
    });
    mkr.send({ origin: 'mkr-01', destination: 'SERVER', type: 'EVENT', fields: ['boot', ''] });
    // Two connections are read in no set order: mkr's frames are handled
    // before lamp sends, so the READING comes before the ALARM.
    await mkr.sync();
    lamp.send({ origin: 'lamp-07', destination: 'mkr-01', type: 'MSG', fields: ['hi'] });
    lamp.send({ origin: 'lamp-07', destination: 'SERVER', type: 'ALARM', fields: ['fire', '1'] });
    await mkr.next((f) => f.type === 'MSG');
    await lamp.sync();
    // The flow gets them a moment after the server handled them.
    await waitFor(async () => assert.ok(byType.length >= 2 && byDevice.length >= 2), 10_000);
    await delay(100); // a chance for a frame that should not pass the filters
    assert.deepEqual(
      byType.map((m) => [m.topic, (m.payload as { origin: string }).origin]),
      [
        ['READING', 'mkr-01'],
        ['ALARM', 'lamp-07'],
      ],
    );
    assert.deepEqual(byType[0].payload, {
      origin: 'mkr-01',
      destination: 'SERVER',
      type: 'READING',
      fields: ['temperature', '21.5', 'C', ''],
      customer: 'acme',
    });
    assert.deepEqual(
      byDevice.map((m) => m.topic),
      ['MSG', 'ALARM'],
    );
  });

  it('lets devices registered after the start log in at once', async () => {
    const { serial } = await registry.addDevice({
      id: 'late-1',
      type: 'rpi3',
      customerId: 'acme',
      location: 'u4/301',
    });
    serials['late-1'] = serial;
    await device('late-1', 'rpi3');
  });

  it('sends frames with eot-out, to a device and to * of a customer', async () => {
    const lamp = await device('lamp-07', 'esp32');
    const mkr = await device('mkr-01', 'mkr1000');
    const gx = await device('gx-1', 'mkr1000');
    const out = helper.getNode('out1');
    out.receive({
      payload: { destination: 'lamp-07', type: 'WRITE', fields: ['led', 'on'] },
    } as NodeMessage);
    assert.deepEqual(await lamp.next(), {
      origin: 'SERVER',
      destination: 'lamp-07',
      type: 'WRITE',
      fields: ['led', 'on'],
    });
    out.receive({
      payload: { destination: '*', type: 'MSG', fields: ['all'], customer: 'acme' },
    } as NodeMessage);
    assert.deepEqual((await mkr.next()).fields, ['all']);
    assert.deepEqual((await lamp.next()).fields, ['all']);
    await gx.sync();
    assert.deepEqual(gx.takeReceived(), []);
  });

  it('fails the message when the device is unknown, of another customer, or the payload is bad', async () => {
    const out = helper.getNode('out1');
    const errors: string[] = [];
    // The test helper reports each node.error call as a 'call:error' event.
    (out as unknown as EventEmitter).on('call:error', (call: { args: unknown[] }) =>
      errors.push(String(call.args[0])),
    );
    const cases = [
      { destination: 'nobody', type: 'MSG', fields: ['x'] },
      { destination: 'gx-1', type: 'MSG', fields: ['x'], customer: 'acme' },
      { destination: 'lamp-07', type: 'WRITE', fields: 'on' },
      'not an object',
    ];
    for (const payload of cases) out.receive({ payload } as NodeMessage);
    // Some of them fail only after a look-up in the store.
    await waitFor(async () => assert.ok(errors.length >= 4, errors.join('\n')), 10_000);
    await delay(100); // a chance for a fifth error
    assert.equal(errors.length, 4, errors.join('\n'));
    // The messages run concurrently: their errors come in any order.
    for (const expected of [
      /no device nobody/,
      /not of customer acme/,
      /fields must be an array/,
      /msg.payload must be/,
    ])
      assert.ok(
        errors.some((e) => expected.test(e)),
        `${expected} in ${errors.join(' / ')}`,
      );
  });

  it('queues a WRITE from eot-out for a registered device that is offline', async () => {
    const out = helper.getNode('out1');
    out.receive({
      payload: { destination: 'lamp-07', type: 'WRITE', fields: ['led', 'off'] },
    } as NodeMessage);
    // Logs in only once the WRITE waits in the queue: it is the queue that delivers it.
    const server = await (helper.getNode('s1') as EotServerConfigNode).server();
    await waitFor(
      async () =>
        assert.ok(
          await server.isQueued({ destination: 'lamp-07', type: 'WRITE', fields: ['led', 'off'] }),
        ),
      10_000,
    );
    const lamp = await device('lamp-07', 'esp32');
    assert.deepEqual((await lamp.next()).fields, ['led', 'off']);
  });
});
