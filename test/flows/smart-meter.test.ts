// flows/smart-meter.json end to end in the real `bin/sensflow`, deployed
// through the admin API, fed by `sensflow simulate udp`: the cloud prints
// every reading of several meters exactly once, also when the cloud was
// stopped while the meters sent, and when Sensflow was killed (kill -9) with
// batches pending; every reading is in history.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { dayOfSurveys, meterIps } from '../../lib/surveys/meters';
import { formatPrintedLine } from '../../lib/surveys/survey-line';
import { openStore } from '../../lib/store/store';
import { delay, waitFor } from '../support/net';
import { adminToken, deployFlows, ROOT, runSensflow, SensflowProcess, startSensflowProcess, testEnv } from '../support/sensflow-process';

const PASSWORD = 'smart-meter-test-password';
const FLOW = JSON.parse(fs.readFileSync(path.join(ROOT, 'flows', 'smart-meter.json'), 'utf8')) as Array<
  Record<string, unknown>
>;
const PRINTED = /\[debug:cloud console\] (.+)$/gm;

interface Round {
  firstIp: string;
  meters: number;
  seed: number;
}

/** The lines the cloud should print for a round: every reading of every meter. */
function expectedLines(round: Round): string[] {
  return meterIps(round.firstIp, round.meters).flatMap((ip) =>
    dayOfSurveys(ip, { readings: 24, seed: round.seed }).map(formatPrintedLine),
  );
}

function printed(output: string): string[] {
  return [...output.matchAll(PRINTED)].map((m) => m[1]);
}

describe('smart-meter flow', function () {
  this.timeout(180_000);
  let env: Record<string, string>;
  let sf: SensflowProcess;
  let token: string;
  const rounds: Round[] = [];

  const deploy = (flow: unknown[], type: 'full' | 'flows') => deployFlows(sf, token, flow, type);

  /** Stops or starts the cloud's tab alone; the gateway runs on. */
  async function cloudTab(enabled: boolean) {
    const from = sf.output().length;
    const flow = FLOW.map((n) => (n.id === 'sm-tab-cloud' ? { ...n, disabled: !enabled } : n));
    await deploy(flow, 'flows');
    if (enabled) await sf.waitForOutput(/\[survey-cloud:cloud\] gateways send to tcp/, 10_000, from);
    assert.doesNotMatch(sf.output().slice(from), /\[survey-gateway:gateway\] meters send to/, 'the gateway was not restarted');
  }

  async function simulate(round: Round) {
    rounds.push(round);
    const result = await runSensflow(
      [
        'simulate',
        'udp',
        '--meters',
        String(round.meters),
        '--first-ip',
        round.firstIp,
        '--seed',
        String(round.seed),
        '--port',
        env.SENSFLOW_SURVEY_UDP_PORT,
        '--quiet',
      ],
      env,
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`day 1: ${round.meters} of ${round.meters} arrived`));
  }

  /** Waits until the output from `from` holds every line of `round`, then checks each is there once. */
  async function printedOnce(round: Round, from: number) {
    const expected = expectedLines(round);
    await waitFor(
      async () => {
        const got = new Set(printed(sf.output().slice(from)));
        const missing = expected.filter((l) => !got.has(l));
        assert.equal(missing.length, 0, `${missing.length} lines not printed yet, e.g. ${missing[0]}`);
      },
      30_000,
      200,
    );
    await delay(500); // a duplicate would follow right after
    const lines = printed(sf.output().slice(from));
    for (const line of expected) {
      assert.equal(lines.filter((l) => l === line).length, 1, `printed once: ${line}`);
    }
  }

  before(async () => {
    env = { ...(await testEnv()), SENSFLOW_ADMIN_PASSWORD: PASSWORD };
    sf = await startSensflowProcess(env);
    token = await adminToken(sf.url, 'admin', PASSWORD);
    await deploy(FLOW, 'full');
    await sf.waitForOutput(/\[survey-gateway:gateway\] meters send to udp 127\.0\.0\.1:\d+/, 10_000);
  });
  after(async () => {
    await sf?.stop();
  });

  it('prints every reading of several meters once, as ip – time – temperature – humidity', async () => {
    const from = sf.output().length;
    const round = { firstIp: '192.168.1.2', meters: 4, seed: 1 };
    await simulate(round);
    await printedOnce(round, from);
    assert.match(sf.output().slice(from), /\[debug:cloud console\] 192\.168\.1\.2 – 00:00 – [\d.]+ – \d+%/);
  });

  it('keeps what meters send while the cloud is stopped, and prints it once when it is back', async () => {
    await cloudTab(false);
    const from = sf.output().length;
    const round = { firstIp: '10.20.0.1', meters: 3, seed: 2 };
    await simulate(round); // every meter is answered "Surveys arrived" with the cloud down
    await delay(1500);
    assert.deepEqual(
      printed(sf.output().slice(from)).filter((l) => l.startsWith('10.20.0.')),
      [],
      'nothing reaches the stopped cloud',
    );
    await cloudTab(true);
    await printedOnce(round, from);
  });

  it('forwards batches pending when Sensflow is killed, once, after the restart', async () => {
    await cloudTab(false);
    const round = { firstIp: '10.30.0.1', meters: 2, seed: 3 };
    await simulate(round);
    const { code } = await sf.stop('SIGKILL');
    assert.equal(code, null, 'killed');
    const pending = fs.readdirSync(path.join(env.SENSFLOW_HOME, 'surveys', 'gateway-sm-gateway'));
    assert.equal(pending.filter((f) => f.endsWith('.json')).length, 2, 'two batches on disk');

    sf = await startSensflowProcess(env);
    token = await adminToken(sf.url, 'admin', PASSWORD);
    await sf.waitForOutput(/\[survey-gateway:gateway\] meters send to udp/, 30_000);
    const from = sf.output().length;
    await cloudTab(true); // the flow came back with the cloud stopped, as it was deployed
    await printedOnce(round, from);
    const again = printed(sf.output().slice(from)).filter((l) => !l.startsWith('10.30.0.'));
    assert.deepEqual(again, [], 'batches confirmed before the kill are not sent again');
  });

  it('stores every reading in history, tagged with the meter ip', async () => {
    await sf.stop(); // a clean stop flushes the history spool
    const store = await openStore({ kind: 'sqlite', file: path.join(env.SENSFLOW_HOME, 'sensflow.db') });
    try {
      const rows = await sql<{ tags: string; field: string; time: number; num: number }>`
        select s.tags as tags, p.field as field, p.time as time, p.num as num
        from history_points p join history_series s on s.id = p.series_id
        where s.measurement = 'survey'`.execute(store.db);
      const points = new Map<string, { temperature?: number; humidity?: number }>();
      for (const row of rows.rows) {
        const ip = (JSON.parse(row.tags) as { ip: string }).ip;
        const at = new Date(Number(row.time));
        const hhmm = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
        const key = `${ip} ${hhmm}`;
        points.set(key, { ...points.get(key), [row.field]: row.num });
        // The previous 24 hours, give or take the 10 minutes allowed for meters' clocks.
        const age = Date.now() - Number(row.time);
        assert.ok(age > -10 * 60_000 && age < 24 * 3600_000 + 60_000, `dated in the last day: ${at.toISOString()}`);
      }
      const expected = rounds.flatMap((round) =>
        meterIps(round.firstIp, round.meters).flatMap((ip) =>
          dayOfSurveys(ip, { readings: 24, seed: round.seed }).map((s) => [
            `${ip} ${s.time}`,
            { temperature: s.temperature, humidity: s.humidity },
          ]),
        ),
      );
      assert.equal(points.size, expected.length, 'one point per reading');
      assert.deepEqual(new Map(expected as Array<[string, object]>), points);
    } finally {
      await store.close();
    }
  });
});
