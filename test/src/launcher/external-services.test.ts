// Sensflow on real external services (MariaDB, InfluxDB 1.x, Mosquitto):
// /healthz reports each, an outage after start is reported and recovered from
// without a restart, and the process never crashes.
import assert from 'node:assert/strict';
import {
  mariadb,
  Mosquitto,
  startInfluxDb,
  startMosquitto,
  InfluxDb,
} from '../../support/services';
import { influxQl } from '../../support/history';
import { waitFor } from '../../support/net';
import { SensflowProcess, startSensflowProcess, testEnv } from '../../support/sensflow-process';

interface Health {
  status: string;
  components: Record<string, { status: string; backend: string; error?: string }>;
}

async function health(sf: SensflowProcess): Promise<{ code: number; body: Health }> {
  const res = await fetch(new URL('healthz', sf.url));
  return { code: res.status, body: (await res.json()) as Health };
}

describe('sensflow start with external services', function () {
  this.timeout(120_000);
  let sf: SensflowProcess;
  let influx: InfluxDb;
  let mosquitto: Mosquitto;
  let mysqlUrl: string;

  before(async () => {
    influx = await startInfluxDb();
    mosquitto = await startMosquitto();
    mysqlUrl = await (await mariadb()).createDatabase('launcher');
    sf = await startSensflowProcess({
      ...(await testEnv()),
      SENSFLOW_MYSQL_URL: mysqlUrl,
      SENSFLOW_INFLUX_URL: `${influx.url}/sensflow`,
      SENSFLOW_MQTT_URL: mosquitto.url,
    });
  });
  after(async () => {
    await sf?.stop();
    await influx?.process.stop();
    await mosquitto?.process.stop();
  });

  it('uses them instead of the embedded defaults', async () => {
    const { code, body } = await waitFor(async () => {
      const h = await health(sf);
      if (h.code !== 200) throw new Error(JSON.stringify(h.body));
      return h;
    }, 10_000);
    assert.equal(code, 200);
    assert.match(
      body.components.store.backend,
      /^mysql:\/\/sensflow:\*\*\*@127\.0\.0\.1:\d+\/launcher/,
    );
    assert.equal(body.components.history.backend, `${influx.url}/sensflow`);
    assert.equal(body.components.broker.backend, `${mosquitto.url}`);
    assert.doesNotMatch(sf.output(), /MQTT:\s+port/, 'no embedded broker');
  });

  it("creates SENSFLOW_INFLUX_URL's database on a fresh InfluxDB", async () => {
    // The default flows' history-store follows the server's InfluxDB: without
    // its database every write would be refused (404) and wait in the spool.
    await waitFor(async () => {
      const [databases] = await influxQl(influx.url, '', 'SHOW DATABASES');
      assert.ok(
        databases?.values.some(([name]) => name === 'sensflow'),
        JSON.stringify(databases?.values),
      );
    }, 15_000);
  });

  it('reports InfluxDB down with 503 while it is stopped, and up again once it is back', async () => {
    await influx.process.stop();
    const down = await health(sf);
    assert.equal(down.code, 503);
    assert.equal(down.body.components.history.status, 'down');
    assert.equal(down.body.components.store.status, 'up');
    await influx.process.start();
    const up = await waitFor(async () => {
      const h = await health(sf);
      if (h.code !== 200) throw new Error('still down');
      return h;
    }, 20_000);
    assert.equal(up.body.components.history.status, 'up');
  });

  it('reconnects to the MQTT broker after it restarts', async () => {
    const from = sf.output().length;
    await mosquitto.process.stop();
    await waitFor(async () => {
      const h = await health(sf);
      if (h.body.components.broker.status !== 'down') throw new Error('not down yet');
    }, 10_000);
    await mosquitto.process.start();
    await waitFor(async () => {
      const h = await health(sf);
      if (h.code !== 200) throw new Error('still down');
    }, 30_000);
    // Its own line: the history's "is back" of the test before must not count.
    await sf.waitForOutput(/MQTT broker \S+ is back/, 30_000, from);
  });

  it('reports the store down while MariaDB is unreachable, and recovers', async () => {
    const db = await mariadb();
    await db.process.stop();
    try {
      const down = await health(sf);
      assert.equal(down.code, 503);
      assert.equal(down.body.components.store.status, 'down');
      assert.doesNotMatch(
        JSON.stringify(down.body),
        /sensflow:[0-9a-f]{24}@/,
        'no password in the report',
      );
    } finally {
      await db.process.start();
    }
    await waitFor(async () => {
      const h = await health(sf);
      if (h.code !== 200) throw new Error(JSON.stringify(h.body));
    }, 30_000);
    assert.equal(sf.child.exitCode, null, 'the process is still running');
  });

  it('never logs a service password', () => {
    const password = new URL(mysqlUrl).password;
    assert.ok(!sf.output().includes(password));
  });
});
