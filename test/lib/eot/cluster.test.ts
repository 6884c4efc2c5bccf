// Two EOT servers as two instances of one cluster (one MariaDB store, one
// Mosquitto, each its own lease and bus), in one process: frames cross in both
// directions in order, the customer check still holds, a device logging in on
// the second takes over from the first, alarms and subscribed readings reach
// subscribers on the other instance, and a frame queued for a device that is
// online elsewhere still reaches it.
import assert from 'node:assert/strict';
import { Cluster } from '../../../lib/cluster/cluster';
import { DeviceCredentials, EotClient } from '../../../lib/eot/client';
import { EotServer } from '../../../lib/eot/server';
import { openStore, Store } from '../../../lib/store/store';
import { systemClock } from '../../../lib/util/clock';
import { silentLogger } from '../../../lib/util/log';
import { credentials, DEVICES } from '../../support/eot';
import { MemoryDirectory } from '../../support/memory-directory';
import { delay, waitFor } from '../../support/net';
import { mariadb, Mosquitto, startMosquitto } from '../../support/services';

interface Instance {
  store: Store;
  cluster: Cluster;
  server: EotServer;
  port: number;
}

describe('EOT servers as instances of one cluster', function () {
  this.timeout(60_000);
  let url: string;
  let mosquitto: Mosquitto;
  let a: Instance;
  let b: Instance;
  const directory = new MemoryDirectory(DEVICES);
  const clients: EotClient[] = [];

  async function instance(id: string): Promise<Instance> {
    const store = await openStore({ kind: 'mysql', url });
    const cluster = await Cluster.start({
      id,
      db: store.db,
      broker: { url: mosquitto.url },
      ttlMs: 2000,
      clock: systemClock,
      logger: silentLogger,
      onEvicted: () => undefined,
    });
    const server = new EotServer(
      { port: 0, host: '127.0.0.1', throttle: { maxFailures: 1000 } },
      { directory, db: store.db, cluster: { view: cluster, serverId: 'eot-1' } },
    );
    const { port } = await server.start();
    return { store, cluster, server, port: port! };
  }

  async function device(on: Instance, id: string | DeviceCredentials): Promise<EotClient> {
    const client = await EotClient.connect({ port: on.port });
    clients.push(client);
    const creds = typeof id === 'string' ? credentials(id) : id;
    assert.ok(await client.login(creds), `${creds.id} logs in`);
    await client.sync();
    return client;
  }

  before(async () => {
    url = await (await mariadb()).createDatabase('eot_cluster');
    mosquitto = await startMosquitto();
    a = await instance('a');
    b = await instance('b');
    await a.cluster.refresh();
    await b.cluster.refresh();
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const i of [a, b]) {
      await i?.server.stop();
      await i?.cluster.stop();
      await i?.store.close();
    }
    await mosquitto?.process.stop();
  });

  it('routes both ways across instances, in order, and refuses another customer', async () => {
    const mkr = await device(a, 'mkr-01');
    const lamp = await device(b, 'lamp-07');
    const gx = await device(b, 'gx-1');
    for (let i = 0; i < 50; i++)
      mkr.send({ origin: 'mkr-01', destination: 'lamp-07', type: 'MSG', fields: [`a${i}`] });
    for (let i = 0; i < 50; i++)
      lamp.send({ origin: 'lamp-07', destination: 'mkr-01', type: 'MSG', fields: [`b${i}`] });
    const got = async (c: EotClient, n: number) => {
      const out: string[] = [];
      while (out.length < n) out.push((await c.next((f) => f.type === 'MSG', 10_000)).fields[0]);
      return out;
    };
    assert.deepEqual(
      await got(lamp, 50),
      Array.from({ length: 50 }, (_, i) => `a${i}`),
    );
    assert.deepEqual(
      await got(mkr, 50),
      Array.from({ length: 50 }, (_, i) => `b${i}`),
    );

    gx.send({ origin: 'gx-1', destination: 'mkr-01', type: 'MSG', fields: ['psst'] });
    const refused = await gx.next((f) => f.type === 'ERROR');
    assert.equal(refused.fields[0], 'FORBIDDEN');
    await mkr.sync();
    assert.ok(!mkr.takeReceived().some((f) => f.fields[0] === 'psst'));
  });

  it('takes a device over when it logs in on another instance', async () => {
    const first = await device(a, 'app-3');
    const closed = first.whenClosed(10_000);
    const second = await device(b, 'app-3');
    await closed;
    const mkr = await device(a, 'mkr-01');
    mkr.send({ origin: 'mkr-01', destination: 'app-3', type: 'MSG', fields: ['to-new'] });
    assert.equal((await second.next((f) => f.type === 'MSG', 10_000)).fields[0], 'to-new');
    assert.equal(a.server.isOnline('app-3'), false);
  });

  it('fans alarms and subscribed readings out to subscribers on the other instance', async () => {
    assert.equal(a.server.peerSubscribed('b', 'acme', 'temperature'), false);
    const watcher = await device(b, 'lamp-07');
    watcher.send({ origin: 'lamp-07', destination: 'SERVER', type: 'SUB', fields: ['smoke'] });
    watcher.send({
      origin: 'lamp-07',
      destination: 'SERVER',
      type: 'SUB',
      fields: ['temperature', '>30'],
    });
    await watcher.sync();
    // Readings are sent over only once the subscription's interest reached instance a.
    await waitFor(
      async () => assert.ok(a.server.peerSubscribed('b', 'acme', 'temperature')),
      10_000,
    );
    const mkr = await device(a, 'mkr-01');
    mkr.send({ origin: 'mkr-01', destination: 'SERVER', type: 'ALARM', fields: ['smoke', '1'] });
    const alarm = await watcher.next((f) => f.type === 'ALARM', 10_000);
    assert.deepEqual(
      [alarm.origin, alarm.destination, alarm.fields[0]],
      ['mkr-01', 'lamp-07', 'smoke'],
    );
    for (const v of ['20', '35', '36', '10', '40'])
      mkr.send({
        origin: 'mkr-01',
        destination: 'SERVER',
        type: 'READING',
        fields: ['temperature', v],
      });
    await mkr.sync();
    const readings = [
      (await watcher.next((f) => f.type === 'READING', 10_000)).fields[1],
      (await watcher.next((f) => f.type === 'READING', 10_000)).fields[1],
    ];
    assert.deepEqual(readings, ['35', '40'], 'only crossings into the condition');
  });

  it('queues for an offline device and delivers at its login on the other instance', async () => {
    const mkr = await device(a, 'mkr-01');
    const lamp = await device(b, 'lamp-07');
    lamp.close();
    await waitFor(async () => assert.equal(b.server.isOnline('lamp-07'), false), 5000);
    await delay(100);
    mkr.send({ origin: 'mkr-01', destination: 'lamp-07', type: 'MSG', fields: ['later'] });
    const ack = await mkr.next((f) => f.type === 'ACK', 10_000);
    assert.deepEqual(ack.fields, ['queued', 'lamp-07']);
    const back = await device(b, 'lamp-07');
    assert.equal((await back.next((f) => f.type === 'MSG', 10_000)).fields[0], 'later');
  });

  it('reaches a device on the other instance from the flows, and refuses another customer', async () => {
    const lamp = await device(b, 'lamp-07');
    await a.server.send({
      destination: 'lamp-07',
      type: 'WRITE',
      fields: ['led', 'on'],
      customer: 'acme',
    });
    const write = await lamp.next((f) => f.type === 'WRITE', 10_000);
    assert.deepEqual(write.fields, ['led', 'on']);
    await assert.rejects(
      a.server.send({
        destination: 'lamp-07',
        type: 'WRITE',
        fields: ['led', 'on'],
        customer: 'globex',
      }),
      /not of customer globex/,
    );
    // The device's ACK reaches an actuator command on the first instance.
    const heard = new Promise((resolve) => a.server.once('peer-frame', resolve));
    lamp.send({ origin: 'lamp-07', destination: 'SERVER', type: 'ACK', fields: ['led', 'on'] });
    assert.deepEqual(((await heard) as { fields: string[] }).fields, ['led', 'on']);
  });
});
