// The real `sensflow start` on a real InfluxDB: a flow posts readings into
// history-out (deployed through the admin API), InfluxDB is stopped, readings
// keep being acknowledged into the spool, Sensflow is killed with SIGKILL in
// the middle of it, InfluxDB comes back, Sensflow starts again on the same
// home: every acknowledged point arrives exactly once.
import assert from 'node:assert/strict';
import { influxQl } from '../../support/history';
import { waitFor } from '../../support/net';
import {
  adminToken,
  deployFlows,
  SensflowProcess,
  startSensflowProcess,
  testEnv,
} from '../../support/sensflow-process';
import { InfluxDb, startInfluxDb } from '../../support/services';

const PASSWORD = 'history-crash-test';
const DATABASE = 'crash';
const T0 = Date.now() - 3600_000;

/** HTTP in → history-out; its Complete node answers 200 (the points are on
 *  disk), its Catch node 500. */
const FLOW = [
  { id: 'crash-tab', type: 'tab', label: 'history crash test' },
  {
    id: 'crash-store',
    type: 'history-store',
    backend: 'default',
    create: true,
    flushInterval: '100',
  },
  {
    id: 'crash-in',
    z: 'crash-tab',
    type: 'http in',
    url: '/crash/points',
    method: 'post',
    wires: [['crash-out']],
  },
  {
    id: 'crash-out',
    z: 'crash-tab',
    type: 'history-out',
    store: 'crash-store',
    measurement: 'crash',
  },
  {
    id: 'crash-ok',
    z: 'crash-tab',
    type: 'complete',
    scope: ['crash-out'],
    wires: [['crash-reply']],
  },
  {
    id: 'crash-catch',
    z: 'crash-tab',
    type: 'catch',
    scope: ['crash-out'],
    uncaught: false,
    wires: [['crash-failed']],
  },
  {
    id: 'crash-failed',
    z: 'crash-tab',
    type: 'change',
    rules: [{ t: 'set', p: 'statusCode', pt: 'msg', to: '500', tot: 'num' }],
    wires: [['crash-reply']],
  },
  { id: 'crash-reply', z: 'crash-tab', type: 'http response', wires: [] },
];

describe('history through an InfluxDB outage and a kill -9 of sensflow', function () {
  this.timeout(180_000);
  let influx: InfluxDb;
  let env: Record<string, string>;
  let sf: SensflowProcess | undefined;
  /** Values whose POST was answered 200: acknowledged. */
  const acked = new Set<number>();
  /** Every value posted, answered or not. */
  const posted = new Set<number>();
  let next = 0;

  /** Once this many are acknowledged, sensflow gets SIGKILL at once. */
  let killAt = Infinity;
  let killed = false;

  /** Posts `count` readings, one or ten per request, 8 requests at a time;
   *  resolves when all were answered, or sensflow was killed. */
  async function post(count: number): Promise<void> {
    const end = next + count;
    const worker = async () => {
      while (next < end && !killed) {
        const size = next % 3 === 0 ? 1 : 10;
        const values = Array.from({ length: Math.min(size, end - next) }, () => next++);
        values.forEach((v) => posted.add(v));
        const points = values.map((v) => ({ value: v, time: T0 + v }));
        const res = await fetch(new URL('crash/points', sf!.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(points.length === 1 ? points[0] : points),
        }).catch(() => undefined); // killed meanwhile: not acknowledged
        if (res?.status === 200) values.forEach((v) => acked.add(v));
        else if (res) throw new Error(`POST answered ${res.status}: ${await res.text()}`);
        if (acked.size >= killAt && !killed) {
          killed = true;
          sf!.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }

  async function stored(): Promise<number[]> {
    const series = await influxQl(influx.url, DATABASE, 'SELECT "value" FROM "crash"');
    return (series[0]?.values ?? []).map((row) => row[1] as number);
  }

  before(async () => {
    influx = await startInfluxDb();
    env = {
      ...(await testEnv()),
      SENSFLOW_ADMIN_PASSWORD: PASSWORD,
      SENSFLOW_INFLUX_URL: `${influx.url}/${DATABASE}`,
    };
  });
  after(async () => {
    if (sf && sf.child.exitCode === null) await sf.stop();
    await influx?.process.stop();
  });

  it('deploys the flow through the admin API and writes while InfluxDB is up', async () => {
    sf = await startSensflowProcess(env);
    const token = await adminToken(sf.url, 'admin', PASSWORD);
    await deployFlows(sf, token, FLOW);
    await waitFor(async () => {
      const probe = await fetch(new URL('crash/points', sf!.url), { method: 'POST' });
      if (probe.status === 404) throw new Error('the flow is not running yet');
    }, 10_000);
    await post(300);
    assert.equal(acked.size, 300);
    await waitFor(async () => assert.equal((await stored()).length, 300), 20_000, 200);
  });

  it('acknowledges readings into the spool while InfluxDB is down, until killed', async () => {
    await influx.process.stop('SIGKILL');
    await post(2000);
    assert.equal(acked.size, 2300, 'acknowledged with InfluxDB down');
    // Kill -9 in the middle of a stream of requests, right as an answer comes.
    killAt = 3300;
    await post(1_000_000);
    await sf!.stop('SIGKILL');
    assert.ok(acked.size >= 3300);
    killAt = Infinity;
    killed = false;
  });

  it('sends every acknowledged point exactly once after InfluxDB and sensflow are back', async () => {
    await influx.process.start();
    sf = await startSensflowProcess(env);
    await sf.waitForOutput(/points left in .* are sent first/, 20_000);
    await waitFor(
      async () => {
        const values = new Set(await stored());
        for (const v of acked) assert.ok(values.has(v), `acknowledged point ${v} is missing`);
      },
      60_000,
      250,
    );
    // Each is stored once: a batch sent again after the crash overwrites
    // itself (same series and time), and nothing else was made up.
    const values = await stored();
    assert.equal(new Set(values).size, values.length, 'no point twice');
    for (const v of values) assert.ok(posted.has(v), `point ${v} was never posted`);
    const extra = values.length - acked.size;
    assert.ok(extra >= 0 && extra <= posted.size - acked.size, `${extra} unacknowledged points`);
  });

  it('goes on writing new readings with the flow it kept in its home', async () => {
    const before = acked.size;
    await post(100);
    assert.equal(acked.size, before + 100);
    await waitFor(
      async () => {
        const values = new Set(await stored());
        for (const v of acked) assert.ok(values.has(v), `acknowledged point ${v} is missing`);
      },
      20_000,
      200,
    );
  });
});
