// The embedded broker with the registry's rules and real MQTT clients: a
// device logs in with the password /device/credentials handed out, may publish
// only under its base topic and subscribe to its own orders, and is cut off
// when it is disabled or its credentials are reset.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { EmbeddedBroker } from '../../../lib/broker/embedded-broker';
import { enforceRegistry } from '../../../lib/broker/registry-policy';
import { serviceLogin, servicePolicy } from '../../../lib/broker/service-policy';
import { Registry } from '../../../lib/registry/registry';
import { openStore, Store } from '../../../lib/store/store';
import { silentLogger } from '../../../lib/util/log';
import { closesWithin, connectMqtt, grantedQos, spy } from '../../support/mqtt-access';

const SECRET = 'policy-test-credential-secret';
const service = serviceLogin(SECRET);

describe('embedded broker with the registry policy', function () {
  this.timeout(30_000);
  let dir: string;
  let store: Store;
  let registry: Registry;
  let broker: EmbeddedBroker;
  let undo: () => void;
  let url: string;
  let password: string;
  const clients: MqttClient[] = [];

  const connect = async (username: string, pw: string) => {
    const client = await connectMqtt(url, { username, password: pw });
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-policy-'));
    store = await openStore({ kind: 'sqlite', file: path.join(dir, 'r.db') });
    registry = new Registry(store.db, { credentialSecret: SECRET, pollIntervalMs: 100 });
    await registry.customers.add({ id: 'acme', name: 'ACME' });
    await registry.addDevice({
      id: 'mkr-01',
      type: 'mkr1000',
      customerId: 'acme',
      location: 'u4/300',
      uidType: 'ethernet',
      uid: 'b8:27:eb:00:00:01',
    });
    password = (await registry.credentialsForUid('b8:27:eb:00:00:01')).password!;
    broker = await EmbeddedBroker.start({
      dataDir: path.join(dir, 'mqtt'),
      host: '127.0.0.1',
      port: 0,
      policy: servicePolicy(service),
      logger: silentLogger,
    });
    undo = enforceRegistry(broker, registry, servicePolicy(service), silentLogger);
    url = `mqtt://127.0.0.1:${broker.ports.tcp}`;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    undo();
    await broker.close();
    await registry.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong password, an unknown login and anonymous clients', async () => {
    await assert.rejects(connect('mkr-01', 'wrong'), /Bad username|Not authorized/i);
    await assert.rejects(connect('nobody', password), /Bad username|Not authorized/i);
    await assert.rejects(connectMqtt(url), /Bad username|Not authorized/i);
    const device = await connect('mkr-01', password);
    assert.equal(device.connected, true);
  });

  it('lets a device publish under its base topic only', async () => {
    const watcher = await spy(url, service);
    clients.push(watcher.client);
    const device = await connect('mkr-01', password);
    await device.publishAsync('u4/300/temperature', '21.5', { qos: 1 });
    await device.publishAsync('u4/300/device', '{"fw":"1"}', { qos: 1 });
    await watcher.waitFor('u4/300/temperature 21.5');
    await watcher.waitFor('u4/300/device {"fw":"1"}');
    device.publish('u4/301/temperature', 'intruder', { qos: 1 });
    assert.equal(await closesWithin(device, 3000), true, 'a refused publish ends the connection');
    const again = await connect('mkr-01', password);
    again.publish('u4/3000/temperature', 'prefix', { qos: 0 });
    await closesWithin(again, 3000);
    assert.ok(!watcher.received.some((m) => /intruder|prefix/.test(m)), watcher.received.join());
  });

  it('lets a device subscribe to the orders of its own modules only', async () => {
    const device = await connect('mkr-01', password);
    assert.equal(await grantedQos(device, 'u4/300/+/command'), 1);
    assert.equal(await grantedQos(device, 'u4/300/shutter/command'), 1);
    assert.equal(await grantedQos(device, 'u4/301/+/command'), 128);
    assert.equal(await grantedQos(device, 'u4/300/temperature'), 128);
    assert.equal(await grantedQos(device, '#'), 128);
    const ops = await connect(service.username, service.password);
    const got = new Promise<string>((resolve) =>
      device.on('message', (topic, payload) => resolve(`${topic} ${payload.toString()}`)),
    );
    await ops.publishAsync('u4/300/shutter/command', '{"order":"up","dest":"all"}', { qos: 1 });
    assert.equal(await got, 'u4/300/shutter/command {"order":"up","dest":"all"}');
  });

  it('cuts off a device disabled while connected, and refuses it until enabled', async () => {
    const device = await connect('mkr-01', password);
    const closed = closesWithin(device, 3000);
    await registry.setEnabled('mkr-01', false);
    assert.equal(await closed, true);
    await assert.rejects(connect('mkr-01', password), /Bad username|Not authorized/i);
    await registry.setEnabled('mkr-01', true);
    assert.equal((await connect('mkr-01', password)).connected, true);
  });

  it('cuts off a device whose credentials are reset, even from another process', async () => {
    const device = await connect('mkr-01', password);
    const closed = closesWithin(device, 5000);
    // Another process (the CLI) on the same store: seen through the change feed.
    const other = new Registry(store.db, { credentialSecret: SECRET });
    await other.resetCredentials('mkr-01');
    await other.close();
    assert.equal(await closed, true);
    await assert.rejects(connect('mkr-01', password), /Bad username|Not authorized/i);
    const fresh = (await registry.credentialsForUid('b8:27:eb:00:00:01')).password!;
    assert.notEqual(fresh, password);
    assert.equal((await connect('mkr-01', fresh)).connected, true);
  });
});
