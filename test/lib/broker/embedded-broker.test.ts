// The embedded broker with real MQTT clients: logins, persistence across a
// restart, WebSocket and TLS listeners.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import mqtt, { MqttClient } from 'mqtt';
import { WebSocket } from 'ws';
import { EmbeddedBroker } from '../../../lib/broker/embedded-broker';
import { serviceLogin, servicePolicy } from '../../../lib/broker/service-policy';
import { silentLogger } from '../../../lib/util/log';
import { queuedTopics, retainedTopics } from '../../support/broker-store';
import { delay, freePort, waitFor } from '../../support/net';

const login = serviceLogin('test-credential-secret');
const tlsDir = path.join(__dirname, '../../fixtures/tls');

describe('embedded broker', function () {
  this.timeout(20_000);
  let dataDir: string;
  let broker: EmbeddedBroker | undefined;
  const clients: MqttClient[] = [];

  async function start(extra: { tlsPort?: number } = {}) {
    broker = await EmbeddedBroker.start({
      dataDir,
      host: '127.0.0.1',
      port: 0,
      policy: servicePolicy(login),
      logger: silentLogger,
      tls: extra.tlsPort
        ? {
            port: extra.tlsPort,
            key: fs.readFileSync(path.join(tlsDir, 'key.pem')),
            cert: fs.readFileSync(path.join(tlsDir, 'cert.pem')),
          }
        : undefined,
    });
    return broker;
  }

  async function connect(
    options: mqtt.IClientOptions,
    url = `mqtt://127.0.0.1:${broker!.ports.tcp}`,
  ) {
    const client = await mqtt.connectAsync(url, {
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...options,
    });
    clients.push(client);
    return client;
  }

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-broker-'));
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await broker?.close();
    broker = undefined;
  });

  it('refuses anonymous clients and wrong passwords, accepts the service login', async () => {
    await start();
    await assert.rejects(connect({}), /Not authorized|Bad username/i);
    await assert.rejects(
      connect({ username: login.username, password: 'wrong' }),
      /Bad username|Not authorized/i,
    );
    const client = await connect({ username: login.username, password: login.password });
    assert.equal(client.connected, true);
  });

  it('applies a replaced policy to later logins and publishes', async () => {
    await start();
    broker!.setPolicy({
      authenticate: async (username, password) =>
        username === 'dev-1' && password?.toString() === 'pw' ? { username } : null,
      canPublish: (_p, topic) => topic.startsWith('u4/300/'),
      canSubscribe: () => true,
    });
    await assert.rejects(connect({ ...login }), /Bad username|Not authorized/i);
    const device = await connect({ username: 'dev-1', password: 'pw' });
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    await device.publishAsync('u4/300/temperature', '1', { qos: 1 });
    device.publish('u4/301/temperature', '2', { qos: 1 });
    await closed; // a refused publish ends the connection (MQTT 3.1.1 has no refusal code)
  });

  it('keeps retained messages across a restart', async () => {
    await start();
    const pub = await connect({ ...login });
    await pub.publishAsync('u4/300/temperature', '{"value":21.5}', { retain: true, qos: 1 });
    // The PUBACK comes before the broker stores the retained copy.
    await waitFor(
      async () =>
        assert.deepEqual(await retainedTopics(broker!.aedes, 'u4/300/temperature'), [
          'u4/300/temperature',
        ]),
      5000,
    );
    await pub.endAsync();
    clients.splice(0);
    await broker!.close();

    await start();
    const sub = await connect({ ...login });
    const got = new Promise<string>((resolve) =>
      sub.on('message', (_t, payload) => resolve(payload.toString())),
    );
    await sub.subscribeAsync('u4/300/temperature');
    assert.equal(await got, '{"value":21.5}');
  });

  it('delivers QoS 1 messages queued for a persistent session after a restart', async () => {
    await start();
    const sub = await connect({ ...login, clientId: 'shutter-7', clean: false });
    await sub.subscribeAsync('u4/300/shutter/command', { qos: 1 });
    await sub.endAsync();
    clients.splice(clients.indexOf(sub), 1);

    const pub = await connect({ ...login });
    await pub.publishAsync('u4/300/shutter/command', '{"order":"up","dest":"all"}', { qos: 1 });
    // The PUBACK comes before the broker queues the message for the offline session.
    await waitFor(
      async () =>
        assert.deepEqual(await queuedTopics(broker!.aedes, 'shutter-7'), [
          'u4/300/shutter/command',
        ]),
      5000,
    );
    await pub.endAsync();
    clients.splice(clients.indexOf(pub), 1);
    await broker!.close();

    await start();
    const again = mqtt.connect(`mqtt://127.0.0.1:${broker!.ports.tcp}`, {
      ...login,
      clientId: 'shutter-7',
      clean: false,
      reconnectPeriod: 0,
    });
    clients.push(again);
    const payload = await new Promise<string>((resolve) =>
      again.on('message', (_t, p) => resolve(p.toString())),
    );
    assert.equal(payload, '{"order":"up","dest":"all"}');
  });

  it('delivers every packet to a live subscriber, retained and QoS 1 ones overtaken by plain ones too', async () => {
    // aedes's own dedupe dropped a packet that waited for the store (retained)
    // or the offline queue (QoS 1) while a later QoS 0 one went out first.
    await start();
    const sub = await connect({ ...login });
    const counts = new Map<string, number>();
    let total = 0;
    sub.on('message', (topic) => {
      counts.set(topic, (counts.get(topic) ?? 0) + 1);
      total++;
    });
    await sub.subscribeAsync('#');
    const rooms = ['living', 'kitchen', 'bedroom'];
    const pubs = await Promise.all(rooms.map(() => connect({ ...login })));
    const rounds = 20;
    for (let n = 0; n < rounds; n++) {
      pubs.forEach((pub, i) => {
        pub.publish(`home/${rooms[i]}/temperature`, `{"value":${20 + n / 10}}`, { retain: true });
        pub.publish(`home/${rooms[i]}/relay`, `{"status":"on"}`, { qos: 1 });
        pub.publish(`u4/30${i}/co2`, `{"value":${600 + n}}`);
      });
      await delay(5);
    }
    const expected = rounds * rooms.length * 3;
    await waitFor(async () => assert.ok(total >= expected), 10_000).catch(() => undefined);
    for (const room of rooms)
      for (const topic of [`home/${room}/temperature`, `home/${room}/relay`])
        assert.equal(counts.get(topic), rounds, `${topic}: ${counts.get(topic) ?? 0} of ${rounds}`);
    assert.equal(total, expected);
  });

  it('still sends a packet once to a client whose subscriptions overlap', async () => {
    await start();
    const sub = await connect({ ...login });
    const got: string[] = [];
    sub.on('message', (_t, payload) => got.push(payload.toString()));
    await sub.subscribeAsync(['home/#', 'home/+/temperature', 'home/living/temperature']);
    const pub = await connect({ ...login });
    for (let n = 0; n < 5; n++)
      await pub.publishAsync('home/living/temperature', String(n), {
        retain: n % 2 === 0,
        qos: n === 3 ? 1 : 0,
      });
    await pub.publishAsync('home/done', 'done', { qos: 1 });
    // 'done' may overtake a retained one still waiting for the store: wait for all six.
    await waitFor(async () => assert.ok(got.length >= 6), 5000);
    await delay(100);
    // Each once; aedes lets a plain packet pass one waiting for the store.
    assert.deepEqual(got.sort(), ['0', '1', '2', '3', '4', 'done']);
  });

  it('serves MQTT over WebSocket on its path and leaves other upgrades alone', async () => {
    await start();
    const server = http.createServer();
    broker!.attachWebSocket(server, '/mqtt');
    let otherUpgrade = false;
    server.on('upgrade', (req, socket) => {
      if (req.url === '/other') {
        otherUpgrade = true;
        socket.destroy();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const client = await connect({ ...login }, `ws://127.0.0.1:${port}/mqtt`);
      const got = new Promise<string>((resolve) =>
        client.on('message', (_t, p) => resolve(p.toString())),
      );
      await client.subscribeAsync('ws/test');
      await client.publishAsync('ws/test', 'over websocket');
      assert.equal(await got, 'over websocket');

      const other = new WebSocket(`ws://127.0.0.1:${port}/other`);
      await new Promise((resolve) => other.on('error', resolve).on('close', resolve));
      assert.equal(otherUpgrade, true);
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('serves MQTT over TLS when given a key and certificate', async () => {
    const tlsPort = await freePort();
    await start({ tlsPort });
    assert.equal(broker!.ports.tls, tlsPort);
    const client = await connect(
      { ...login, ca: fs.readFileSync(path.join(tlsDir, 'cert.pem')), servername: 'localhost' },
      `mqtts://127.0.0.1:${tlsPort}`,
    );
    assert.equal(client.connected, true);
  });
});
