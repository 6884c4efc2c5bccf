// Acceptance of scale-out: three real `sensflow start` processes (their own
// homes and ports, SENSFLOW_INSTANCE_ID s1, s2, s3) on one real MariaDB
// database, one real Mosquitto with dynamic security and one InfluxDB, as in
// docs/scale-out.md. Devices talk across instances both ways and in order,
// customers stay apart, alarms fan out everywhere, a reading is processed
// once, an alarm is raised once, a device moving between instances is taken
// over, kill -9 of an instance with work in flight loses nothing acknowledged
// and does nothing twice, cross-instance frames survive a broker restart, and
// a second instance with a taken id refuses to start.
import assert from 'node:assert/strict';
import { createConnection } from 'mysql2/promise';
import type { MqttClient } from 'mqtt';
import { EotClient } from '../../../lib/eot/client';
import type { Frame } from '../../../lib/eot/codec';
import { RoamingDevice } from '../../../lib/eot/roaming';
import { connectMqtt } from '../../support/mqtt-access';
import { delay, waitFor } from '../../support/net';
import { influxdb, mariadb, Mosquitto, startMosquitto } from '../../support/services';
import {
  adminToken,
  runSensflow,
  SensflowProcess,
  startSensflowProcess,
  testEnv,
} from '../../support/sensflow-process';

import {
  addServiceClient,
  ADMIN_PASSWORD,
  dynsecAdmin,
  Id,
  IDS,
  service,
  testFlows,
} from '../../support/scale-out';

describe('scale-out: three instances on one MariaDB, Mosquitto and InfluxDB', function () {
  this.timeout(300_000);
  let mosquitto: Mosquitto;
  let mysqlUrl: string;
  let common: Record<string, string>;
  const sf = {} as Record<Id, SensflowProcess>;
  const eotPort = {} as Record<Id, number>;
  const clients: EotClient[] = [];
  const roamers: RoamingDevice[] = [];
  let watcher: MqttClient;
  const heard: Array<{ topic: string; body: Record<string, unknown> }> = [];
  let influxUrl: string;

  const cli = async (...args: string[]) => {
    const result = await runSensflow(args, common);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const sql = async <T>(query: string, params: unknown[] = []): Promise<T[]> => {
    const conn = await createConnection(mysqlUrl);
    try {
      return (await conn.query(query, params))[0] as T[];
    } finally {
      await conn.end();
    }
  };
  const creds = (id: string) => ({ id, type: 'esp32', serial: `serial-${id}` });

  async function device(on: Id, id: string): Promise<EotClient> {
    const client = await EotClient.connect({ port: eotPort[on] });
    clients.push(client);
    assert.ok(await client.login(creds(id)), `${id} logs in on ${on}`);
    await client.sync();
    return client;
  }
  const messages = async (client: EotClient, n: number, ms = 15_000) => {
    const got: string[] = [];
    while (got.length < n) got.push((await client.next((f) => f.type === 'MSG', ms)).fields[0]);
    return got;
  };
  const heardOn = (topic: string) => heard.filter((h) => h.topic === topic).map((h) => h.body);

  async function deploy(id: Id) {
    const token = await adminToken(sf[id].url, 'admin', ADMIN_PASSWORD);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const flows = (await (
      await fetch(new URL('flows', sf[id].url), { headers })
    ).json()) as object[];
    const res = await fetch(new URL('flows', sf[id].url), {
      method: 'POST',
      headers: { ...headers, 'node-red-deployment-type': 'full' },
      body: JSON.stringify([...flows, ...testFlows(id)]),
    });
    assert.equal(res.status, 204, await res.text());
  }

  before(async () => {
    const [maria, influx] = await Promise.all([mariadb(), influxdb()]);
    mysqlUrl = await maria.createDatabase('scaleout');
    influxUrl = `${influx.url}/sensflow_scale`;
    await fetch(`${influx.url}/query?q=${encodeURIComponent('CREATE DATABASE sensflow_scale')}`, {
      method: 'POST',
    });
    mosquitto = await startMosquitto({
      dynsec: { adminUser: dynsecAdmin.user, adminPassword: dynsecAdmin.password },
      // Its log tells when the flows' subscriptions are in place (`<client> <qos> <filter>`).
      config: ['log_type subscribe'],
    });
    addServiceClient(mosquitto.port);
    common = {
      ...(await testEnv()),
      SENSFLOW_MYSQL_URL: mysqlUrl,
      SENSFLOW_MQTT_URL: `mqtt://${service.username}:${service.password}@127.0.0.1:${mosquitto.port}`,
      SENSFLOW_MQTT_DYNSEC_USER: dynsecAdmin.user,
      SENSFLOW_MQTT_DYNSEC_PASSWORD: dynsecAdmin.password,
      SENSFLOW_INFLUX_URL: influxUrl,
      SENSFLOW_CREDENTIAL_SECRET: 'one-secret-shared-by-every-instance',
      SENSFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD,
      SENSFLOW_INSTANCE_LEASE: '2',
    };
    await cli('customers', 'add', '--id', 'acme', '--name', 'ACME');
    await cli('customers', 'add', '--id', 'globex', '--name', 'Globex');
    for (const id of ['a1', 'a2', 'a3', 'a4', 'k1', 'k2', 'k3', 'm1', 'm2'])
      await cli(...addDevice(id, 'acme'));
    await cli(...addDevice('gx-1', 'globex'));

    watcher = await connectMqtt(mosquitto.url, service);
    watcher.on('message', (topic, payload) => {
      try {
        heard.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> });
      } catch {
        // not a test message
      }
    });
    await watcher.subscribeAsync('test/#', { qos: 1 });

    await Promise.all(
      IDS.map(async (id) => {
        const env: Record<string, string> = {
          ...(await testEnv()),
          ...pick(common),
          SENSFLOW_INSTANCE_ID: id,
        };
        eotPort[id] = Number(env.SENSFLOW_EOT_PORT);
        sf[id] = await startSensflowProcess(env);
      }),
    );
    for (const id of IDS) await deploy(id);
    // Every instance sees the others, and the flows' subscriptions are in place.
    await waitFor(
      async () => {
        for (const id of IDS) {
          const metrics = await (await fetch(new URL('metrics', sf[id].url))).text();
          assert.match(metrics, /^sensflow_cluster_instances 3$/m, `${id} sees every instance`);
        }
        const filters = mosquitto.process
          .log()
          .split('\n')
          .map((line) => line.split(' ').pop());
        const subscribers = (filter: string) => filters.filter((f) => f === filter).length;
        for (const filter of ['$share/sensflow/test/readings/+', 'u4/300/temperature'])
          assert.ok(subscribers(filter) >= IDS.length, `${filter}: ${subscribers(filter)}`);
        for (const id of IDS) assert.ok(subscribers(`test/command/${id}`) >= 1, id);
      },
      60_000,
      250,
    );
  });
  after(async () => {
    for (const r of roamers) r.stop();
    for (const c of clients) c.close();
    await watcher?.endAsync(true);
    await Promise.all(IDS.map((id) => sf[id]?.stop()));
    await mosquitto?.process.stop();
  });

  it('refuses a second instance started with a taken id, with one line', async () => {
    const env = { ...(await testEnv()), ...pick(common), SENSFLOW_INSTANCE_ID: 's2' };
    const result = await runSensflow(['start'], env);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      /^sensflow: invalid setting SENSFLOW_INSTANCE_ID: instance "s2" is already running \(host [^,]+, pid \d+\): give each server sharing this database its own id\n$/,
    );
  });

  it('routes device to device across instances, both ways, in order; customers stay apart', async () => {
    const a1 = await device('s1', 'a1');
    const a2 = await device('s2', 'a2');
    const gx = await device('s3', 'gx-1');
    for (let i = 0; i < 100; i++) {
      a1.send({ origin: 'a1', destination: 'a2', type: 'MSG', fields: [`x${i}`] });
      a2.send({ origin: 'a2', destination: 'a1', type: 'MSG', fields: [`y${i}`] });
    }
    assert.deepEqual(await messages(a2, 100), range(100, 'x'));
    assert.deepEqual(await messages(a1, 100), range(100, 'y'));
    gx.send({ origin: 'gx-1', destination: 'a1', type: 'MSG', fields: ['psst'] });
    assert.equal((await gx.next((f) => f.type === 'ERROR', 10_000)).fields[0], 'FORBIDDEN');
    await a1.sync();
    assert.ok(!a1.takeReceived().some((f) => f.fields[0] === 'psst'));
  });

  it('fans an alarm out to subscribers on every instance', async () => {
    const subs = await Promise.all([device('s1', 'a2'), device('s2', 'a3'), device('s3', 'a4')]);
    for (const [i, s] of subs.entries())
      s.send({
        origin: ['a2', 'a3', 'a4'][i],
        destination: 'SERVER',
        type: 'SUB',
        fields: ['smoke'],
      });
    await Promise.all(subs.map((s) => s.sync()));
    const a1 = await device('s2', 'a1');
    a1.send({ origin: 'a1', destination: 'SERVER', type: 'ALARM', fields: ['smoke', '1'] });
    for (const s of subs) {
      const alarm = await s.next((f) => f.type === 'ALARM', 10_000);
      assert.deepEqual([alarm.origin, alarm.fields[0]], ['a1', 'smoke']);
    }
  });

  it('processes each reading of a shared subscription on exactly one instance', async () => {
    const publisher = await connectMqtt(mosquitto.url, service);
    try {
      for (let i = 0; i < 30; i++)
        await publisher.publishAsync(
          `test/readings/${i % 3}`,
          JSON.stringify({ id: `r${i}`, value: i }),
          { qos: 1 },
        );
    } finally {
      await publisher.endAsync();
    }
    await waitFor(async () => assert.ok(heardOn('test/processed').length >= 30), 20_000);
    await delay(1000);
    const processed = heardOn('test/processed');
    assert.equal(processed.length, 30, 'each reading once');
    assert.equal(new Set(processed.map((p) => p.id)).size, 30);
    assert.ok(new Set(processed.map((p) => p.instance)).size >= 2, 'spread over instances');
    await waitFor(async () => {
      const q = encodeURIComponent('SELECT count("value") FROM "scale_readings"');
      const body = (await (
        await fetch(`${influxUrl.replace(/\/sensflow_scale$/, '')}/query?db=sensflow_scale&q=${q}`)
      ).json()) as {
        results: Array<{ series?: Array<{ values: number[][] }> }>;
      };
      assert.equal(body.results[0].series?.[0].values[0][1], 30, 'each point once in InfluxDB');
    }, 20_000);
  });

  it('raises an alarm once although every instance evaluates the reading', async () => {
    const publisher = await connectMqtt(mosquitto.url, service);
    try {
      await publisher.publishAsync('u4/300/temperature', JSON.stringify({ value: 35 }), { qos: 1 });
    } finally {
      await publisher.endAsync();
    }
    await waitFor(async () => assert.ok(heardOn('test/alarms').length >= 1), 15_000);
    await delay(2000);
    const raised = heardOn('test/alarms').filter((a) => a.event === 'raise');
    assert.equal(raised.length, 1, JSON.stringify(heardOn('test/alarms')));
    const rows = await sql<{ n: number }>(
      "SELECT count(*) AS n FROM rule_alarm_transitions WHERE event = 'raise'",
    );
    assert.equal(Number(rows[0].n), 1);
  });

  it('takes a device over when it logs in on another instance', async () => {
    const first = await device('s1', 'm1');
    const closed = first.whenClosed(10_000);
    const second = await device('s2', 'm1');
    await closed;
    const m2 = await device('s3', 'm2');
    m2.send({ origin: 'm2', destination: 'm1', type: 'MSG', fields: ['found you'] });
    assert.equal((await second.next((f) => f.type === 'MSG', 10_000)).fields[0], 'found you');
  });

  it('kill -9 of an instance with work in flight: nothing acknowledged lost, nothing done twice', async () => {
    const servers = IDS.map((id) => ({ host: '127.0.0.1', port: eotPort[id] }));
    // k1 roams (s1 first); k3 stays on s2; k2 is offline.
    const k1 = new RoamingDevice({
      servers,
      device: creds('k1'),
      backoff: { initialMs: 100, maxMs: 500 },
    });
    roamers.push(k1);
    const onS = new Map<string, number>();
    k1.on('login', (_c, server) =>
      onS.set(String(server.port), (onS.get(String(server.port)) ?? 0) + 1),
    );
    assert.ok(await k1.start());
    assert.equal(onS.get(String(eotPort.s1)), 1);
    const k3 = await device('s2', 'k3');

    // A command from s1's flow to the offline k2: its WRITE waits in the queue.
    const publisher = await connectMqtt(mosquitto.url, service);
    await publisher.publishAsync(
      'test/command/s1',
      JSON.stringify({ target: { deviceId: 'k2', actuator: 'led' }, order: 'on' }),
      { qos: 1 },
    );
    await publisher.endAsync();
    await waitFor(async () => {
      const rows = await sql<{ n: number }>(
        "SELECT count(*) AS n FROM eot_queue WHERE destination = 'k2' AND type = 'WRITE'",
      );
      assert.equal(Number(rows[0].n), 1);
    }, 15_000).catch(async (err: unknown) => {
      throw new Error(`${String(err)}; the test heard ${JSON.stringify(heard)}`);
    });
    // Five messages k1 sends to k2 are acknowledged as queued.
    const client = k1.client!;
    for (let i = 0; i < 5; i++)
      client.send({ origin: 'k1', destination: 'k2', type: 'MSG', fields: [`q${i}`] });
    for (let i = 0; i < 5; i++)
      assert.deepEqual((await client.next((f) => f.type === 'ACK', 10_000)).fields, [
        'queued',
        'k2',
      ]);
    // Messages to k3 are on their way when s1 dies.
    for (let i = 0; i < 50; i++)
      client.send({ origin: 'k1', destination: 'k3', type: 'MSG', fields: [`d${i}`] });
    await sf.s1.stop('SIGKILL');

    // k1 comes back on another instance; s1's command is taken over.
    await waitFor(async () => assert.ok(k1.logins >= 2 && k1.online), 20_000);
    await waitFor(async () => {
      const rows = await sql<{ owner: string }>(
        "SELECT owner FROM sensflow_commands WHERE owner LIKE 't-actuator@%'",
      );
      assert.equal(
        rows.length,
        1,
        JSON.stringify(await sql('SELECT owner, state FROM sensflow_commands')),
      );
      assert.match(rows[0].owner, /^t-actuator@s[23]$/);
    }, 20_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\n--- s2:\n${sf.s2.output().slice(-3000)}`);
    });
    await waitFor(async () => {
      const presence = await sql<{ n: number }>(
        "SELECT count(*) AS n FROM eot_presence WHERE instance_id = 's1'",
      );
      assert.equal(Number(presence[0].n), 0, "s1's devices are no longer said to be there");
    }, 10_000);

    // k2 logs in on s3: each queued message once, the order once, which it confirms.
    const k2 = await EotClient.connect({ port: eotPort.s3 });
    clients.push(k2);
    const writes: Frame[] = [];
    const fromK1: string[] = [];
    k2.on('frame', (f) => {
      if (f.type === 'MSG') fromK1.push(f.fields[0]);
      if (f.type === 'WRITE') {
        writes.push(f);
        k2.send({
          origin: 'k2',
          destination: 'SERVER',
          type: 'ACK',
          fields: [f.fields[0], f.fields[1]],
        });
      }
    });
    assert.ok(await k2.login(creds('k2')));
    await waitFor(async () => assert.equal(heardOn('test/results').length, 1), 30_000);
    await delay(1500);
    const results = heardOn('test/results') as Array<{
      result: { state: string; attempts: number };
    }>;
    assert.equal(results.length, 1, 'one result');
    assert.equal(results[0].result.state, 'confirmed');
    assert.deepEqual(fromK1, range(5, 'q'), 'each acknowledged message once, in order');
    assert.equal(writes.length, 1, 'the order once');
    const ledger = await sql<{ state: string }>('SELECT state FROM sensflow_commands');
    assert.deepEqual(
      ledger.map((r) => r.state),
      ['confirmed'],
    );

    // What reached k3 came in order, once; k1 reaches k3 again from its new instance.
    const toK3 = k3
      .takeReceived()
      .filter((f) => f.type === 'MSG')
      .map((f) => f.fields[0]);
    assert.deepEqual(toK3, range(toK3.length, 'd'));
    k1.client!.send({ origin: 'k1', destination: 'k3', type: 'MSG', fields: ['again'] });
    assert.equal((await k3.next((f) => f.type === 'MSG', 10_000)).fields[0], 'again');
  });

  it('keeps cross-instance frames while the broker restarts, and delivers them after', async () => {
    const x = await device('s2', 'a3');
    const y = await device('s3', 'a4');
    await mosquitto.process.stop();
    for (let i = 0; i < 20; i++)
      x.send({ origin: 'a3', destination: 'a4', type: 'MSG', fields: [`b${i}`] });
    await x.sync();
    await delay(1500);
    await mosquitto.process.start();
    assert.deepEqual(await messages(y, 20, 30_000), range(20, 'b'));
  });
});

function addDevice(id: string, customer: string): string[] {
  return [
    ...['devices', 'add', '--id', id, '--type', 'esp32', '--customer', customer],
    ...['--location', 'u4/300', '--serial', `serial-${id}`],
  ];
}

function range(n: number, prefix: string): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

/** The settings every instance shares (each has its own home and ports). */
function pick(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(([k]) =>
      [
        'SENSFLOW_MYSQL_URL',
        'SENSFLOW_MQTT_URL',
        'SENSFLOW_MQTT_DYNSEC_USER',
        'SENSFLOW_MQTT_DYNSEC_PASSWORD',
        'SENSFLOW_INFLUX_URL',
        'SENSFLOW_CREDENTIAL_SECRET',
        'SENSFLOW_ADMIN_PASSWORD',
        'SENSFLOW_INSTANCE_LEASE',
      ].includes(k),
    ),
  );
}
