// actuator-command over EOT in a real Node-RED runtime, with the real
// registry and EOT server: WRITE to a device confirmed by its ACK; an offline
// device gets the order once from the server's queue when it logs in; unknown
// or foreign devices are refused before anything is sent.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Node, NodeMessage } from 'node-red';
import type { CommandResult } from '../../lib/commands/types';
import { EotClient } from '../../lib/eot/client';
import type { Frame } from '../../lib/eot/codec';
import type { Registry } from '../../lib/registry/registry';
import actuatorCommand from '../../nodes/actuator-command/actuator-command';
import eotServer from '../../nodes/eot-server/eot-server';
import type { EotServerConfigNode } from '../../nodes/eot-server/eot-server-node';
import registryNode from '../../nodes/sensflow-registry/sensflow-registry';
import type { RegistryConfigNode } from '../../nodes/sensflow-registry/registry-node';
import { helper, load, startServer, stopServer } from '../support/node-helper';

type Spy = Node & { on(event: 'input', fn: (msg: NodeMessage) => void): void };

describe('actuator-command over EOT', function () {
  this.timeout(30_000);
  let registry: Registry;
  let port: number;
  const serials: Record<string, string> = {};
  const clients: EotClient[] = [];
  let results: CommandResult[];

  /** A device that answers every WRITE with ACK|<actuator>|<value>. */
  async function lamp(id: string): Promise<{ client: EotClient; writes: Frame[] }> {
    const client = await EotClient.connect({ port });
    clients.push(client);
    const writes: Frame[] = [];
    client.on('frame', (frame) => {
      if (frame.type !== 'WRITE') return;
      writes.push(frame);
      client.send({
        origin: id,
        destination: frame.origin,
        type: 'ACK',
        fields: [frame.fields[0], frame.fields[1]],
      });
    });
    assert.ok(await client.login({ id, type: 'esp32', serial: serials[id] }), `${id} logs in`);
    return { client, writes };
  }

  function command(target: object, payload: unknown): Promise<CommandResult> {
    const before = results.length;
    helper.getNode('cmd').receive({ payload, target } as NodeMessage);
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + 15_000;
      const poll = setInterval(() => {
        if (results.length > before) {
          clearInterval(poll);
          resolve(results[before]);
        } else if (Date.now() > deadline) {
          clearInterval(poll);
          reject(new Error('no result'));
        }
      }, 20);
    });
  }

  beforeEach(async () => {
    results = [];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-cmd-eot-'));
    await startServer();
    await load(
      [registryNode, eotServer, actuatorCommand],
      [
        { id: 'tab', type: 'tab' },
        { id: 'r1', type: 'sensflow-registry', store: 'sqlite', file: path.join(dir, 'r.db') },
        { id: 's1', type: 'eot-server', registry: 'r1', host: '127.0.0.1', port: '0' },
        {
          id: 'cmd',
          type: 'actuator-command',
          z: 'tab',
          registry: 'r1',
          eot: 's1',
          customer: 'acme',
          ackTimeout: 2,
          // Room for the offline device to log in well before the order gives up.
          attempts: 6,
          ttl: 60,
          wires: [['results'], []],
        },
        { id: 'results', type: 'helper', z: 'tab' },
      ],
    );
    (helper.getNode('results') as Spy).on('input', (m) => results.push(m.payload as CommandResult));
    registry = await (helper.getNode('r1') as RegistryConfigNode).registry();
    await registry.customers.add({ id: 'acme', name: 'ACME' });
    await registry.customers.add({ id: 'globex', name: 'Globex' });
    for (const [id, customerId] of [
      ['lamp-07', 'acme'],
      ['lamp-08', 'acme'],
      ['gx-lamp', 'globex'],
    ]) {
      serials[id] = (
        await registry.addDevice({ id, type: 'esp32', customerId, location: 'u4/300' })
      ).serial;
    }
    port = (await (helper.getNode('s1') as EotServerConfigNode).server()).ports.port!;
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await stopServer();
  });

  it("sends WRITE and reports the device's ACK as the confirmed state", async () => {
    const { writes } = await lamp('lamp-07');
    const result = await command({ deviceId: 'lamp-07', actuator: 'led' }, 'on');
    assert.equal(result.state, 'confirmed');
    assert.equal(result.status, 'on');
    assert.equal(result.attempts, 1);
    assert.deepEqual(
      writes.map((w) => [w.origin, w.destination, w.type, ...w.fields]),
      [['SERVER', 'lamp-07', 'WRITE', 'led', 'on']],
    );
  });

  it('queues the order once for an offline device and confirms when it logs in', async () => {
    const pending = command({ deviceId: 'lamp-08', actuator: 'led' }, '50');
    // Longer than two confirmation timeouts: a retry must not queue it again.
    await new Promise((r) => setTimeout(r, 4500));
    const { writes } = await lamp('lamp-08');
    const result = await pending;
    assert.equal(result.state, 'confirmed');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(writes.length, 1, 'delivered once from the queue');
  });

  it('refuses an unknown device and a device of another customer, sending nothing', async () => {
    const foreign = await lamp('gx-lamp');
    const errors: string[] = [];
    const node = helper.getNode('cmd');
    for (const target of [
      { deviceId: 'nobody', actuator: 'led' },
      { deviceId: 'gx-lamp', actuator: 'led' },
    ]) {
      const error = new Promise<string>((resolve) =>
        node.once('call:error', (call: { firstArg: unknown }) => resolve(String(call.firstArg))),
      );
      node.receive({ payload: 'on', target } as NodeMessage);
      errors.push(await error);
    }
    assert.match(errors[0], /no device "nobody"/);
    assert.match(errors[1], /another customer/);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(foreign.writes.length, 0);
    assert.equal(results.length, 0);
  });
});
