// Mosquitto's dynamic security kept in step with the registry, on a real
// Mosquitto: a device gets a client when its password is handed out, may
// publish only under its base topic, and is cut off when it is disabled,
// reset or removed, with no Mosquitto restart. Clients Sensflow does not
// manage are left alone.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { DynsecSync, MANAGED } from '../../../lib/broker/dynsec';
import { Registry } from '../../../lib/registry/registry';
import { openStore, Store } from '../../../lib/store/store';
import { silentLogger } from '../../../lib/util/log';
import { closesWithin, connectMqtt, grantedQos, spy } from '../../support/mqtt-access';
import { delay } from '../../support/net';
import { Mosquitto, startMosquitto } from '../../support/services';

const SECRET = 'dynsec-test-credential-secret';
const admin = { user: 'admin', password: 'dynsec-admin-pw-123' };

describe('Mosquitto dynamic security from the registry', function () {
  this.timeout(60_000);
  let mosquitto: Mosquitto;
  let dir: string;
  let store: Store;
  let registry: Registry;
  let sync: DynsecSync;
  const clients: MqttClient[] = [];

  const connect = async (username: string, password: string) => {
    const client = await connectMqtt(mosquitto.url, { username, password });
    clients.push(client);
    return client;
  };

  /** Hands out the device's password and waits until Mosquitto has it. */
  async function provision(uid: string): Promise<string> {
    const issued = await registry.credentialsForUid(uid);
    await sync.passwordIssued(issued.device, issued.login, issued.password!);
    return issued.password!;
  }

  async function addDevice(id: string, location: string, uid: string) {
    await registry.addDevice({
      id,
      type: 'esp32',
      customerId: 'acme',
      location,
      uidType: 'ethernet',
      uid,
    });
  }

  before(async () => {
    mosquitto = await startMosquitto({
      dynsec: { adminUser: admin.user, adminPassword: admin.password },
    });
  });
  after(async () => {
    await mosquitto.process.stop();
  });
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-dynsec-'));
    store = await openStore({ kind: 'sqlite', file: path.join(dir, 'r.db') });
    registry = new Registry(store.db, { credentialSecret: SECRET, pollIntervalMs: 100 });
    await registry.customers.add({ id: 'acme', name: 'ACME' });
    sync = new DynsecSync({ url: new URL(mosquitto.url), admin, registry, logger: silentLogger });
    await sync.ready();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    // Leave Mosquitto clean for the next test: remove every device.
    for (const d of (await registry.listDevices()).items) await registry.removeDevice(d.id);
    await sync.idle();
    await sync.close();
    await registry.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong password, accepts the handed-out one, keeps a device to its base topic', async () => {
    await addDevice('esp-01', 'u4/300', '02:00:00:00:00:01');
    await sync.idle();
    const password = await provision('02:00:00:00:00:01');
    await assert.rejects(connect('esp-01', 'wrong-password'), /Not authorized|Bad username/i);
    const watcher = await spy(mosquitto.url, { username: admin.user, password: admin.password });
    clients.push(watcher.client);
    const device = await connect('esp-01', password);
    await device.publishAsync('u4/300/temperature', '21.5', { qos: 1 });
    await device.publishAsync('u4/300/device', '{"fw":"2"}', { qos: 1 });
    await device.publishAsync('u4/301/temperature', 'intruder', { qos: 1 });
    await device.publishAsync('u4/3000/temperature', 'prefix', { qos: 1 });
    await watcher.waitFor('u4/300/temperature 21.5');
    await watcher.waitFor('u4/300/device {"fw":"2"}');
    await delay(300);
    assert.ok(!watcher.received.some((m) => /intruder|prefix/.test(m)), watcher.received.join());
    assert.equal(await grantedQos(device, 'u4/300/+/command'), 1);
    assert.equal(await grantedQos(device, 'u4/301/+/command'), 128);
    assert.equal(await grantedQos(device, '#'), 128);
  });

  it('cuts off a device disabled while connected, and lets it back when enabled', async () => {
    await addDevice('esp-02', 'u4/302', '02:00:00:00:00:02');
    const password = await provision('02:00:00:00:00:02');
    const device = await connect('esp-02', password);
    const closed = closesWithin(device, 5000);
    await registry.setEnabled('esp-02', false);
    assert.equal(await closed, true, 'disconnected by Mosquitto');
    await sync.idle();
    await assert.rejects(connect('esp-02', password), /Not authorized|Bad username/i);
    await registry.setEnabled('esp-02', true);
    await sync.idle();
    assert.equal((await connect('esp-02', password)).connected, true);
  });

  it('follows a reset from another process (the CLI) and a move to another base topic', async () => {
    await addDevice('esp-03', 'u4/303', '02:00:00:00:00:03');
    const password = await provision('02:00:00:00:00:03');
    const device = await connect('esp-03', password);
    const closed = closesWithin(device, 5000);
    const cli = new Registry(store.db, { credentialSecret: SECRET });
    await cli.resetCredentials('esp-03');
    await cli.updateDevice('esp-03', { location: 'u4/304' });
    await cli.close();
    assert.equal(await closed, true);
    // The cut-off may come from a poll that saw the reset before the move was
    // written: read the feed again (twice, as a poll under way may have begun
    // before the move), then wait for the sync to apply what it read.
    await registry.pollChanges();
    await registry.pollChanges();
    await sync.idle();
    await assert.rejects(connect('esp-03', password), /Not authorized|Bad username/i);
    const fresh = await provision('02:00:00:00:00:03');
    const watcher = await spy(mosquitto.url, { username: admin.user, password: admin.password });
    clients.push(watcher.client);
    const moved = await connect('esp-03', fresh);
    await moved.publishAsync('u4/303/temperature', 'old-place', { qos: 1 });
    await moved.publishAsync('u4/304/temperature', 'new-place', { qos: 1 });
    await watcher.waitFor('u4/304/temperature new-place');
    assert.ok(!watcher.received.some((m) => /old-place/.test(m)));
  });

  it('leaves a client it does not manage alone, and removes its own for a removed device', async () => {
    await addDevice('esp-04', 'u4/305', '02:00:00:00:00:04');
    await provision('02:00:00:00:00:04');
    await registry.removeDevice('esp-04');
    await sync.idle();
    const listed = await dynsecClients();
    assert.ok(!listed.some((c) => c.username === 'esp-04'), 'client removed');
    assert.ok(listed.some((c) => c.username === admin.user && c.textname !== MANAGED));
    // A device whose login is the admin's is refused, not synced over it.
    await addDevice('admin', 'u4/306', '02:00:00:00:00:05');
    await assert.rejects(provision('02:00:00:00:00:05'), /reserved/);
    const admins = await connect(admin.user, admin.password);
    assert.equal(admins.connected, true, 'the admin login still works');
  });

  async function dynsecClients(): Promise<Array<{ username: string; textname?: string }>> {
    const client = await connect(admin.user, admin.password);
    await client.subscribeAsync('$CONTROL/dynamic-security/v1/response');
    const answer = new Promise<string>((resolve) =>
      client.once('message', (_t, payload) => resolve(payload.toString())),
    );
    await client.publishAsync(
      '$CONTROL/dynamic-security/v1',
      JSON.stringify({ commands: [{ command: 'listClients', verbose: true }] }),
    );
    const parsed = JSON.parse(await answer) as {
      responses: Array<{ data: { clients: Array<{ username: string; textname?: string }> } }>;
    };
    return parsed.responses[0].data.clients;
  }
});
