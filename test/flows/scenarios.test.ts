// Each scenario flow alone (flows/campus.json, smart-home.json,
// eot-server.json) in the real `bin/sensflow`, deployed through the admin API
// and fed by the command-line simulators (`sensflow simulate mqtt|eot`) on the
// demo devices: the pages' widgets get what they should, orders are confirmed
// by the simulated units, readings reach history, retained temperatures come
// back after a redeploy with no device running.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { openStore } from '../../lib/store/store';
import { DashboardSocket } from '../support/dashboard-socket';
import { waitFor } from '../support/net';
import {
  adminToken,
  ROOT,
  runSensflow,
  SensflowProcess,
  startSensflowProcess,
  testEnv,
} from '../support/sensflow-process';

const PASSWORD = 'scenarios-test-password';
type Msg = Record<string, unknown>;
const payloadOf = <T>(m: Msg) => m.payload as T;

describe('scenario flows with the command-line simulators', function () {
  this.timeout(180_000);
  let env: Record<string, string>;
  let sf: SensflowProcess;
  let token: string;
  let socket: DashboardSocket | undefined;

  before(async () => {
    env = { ...(await testEnv()), SENSFLOW_DEMO: 'on', SENSFLOW_ADMIN_PASSWORD: PASSWORD };
    sf = await startSensflowProcess(env);
    token = await adminToken(sf.url, 'admin', PASSWORD);
  });
  afterEach(async () => {
    await socket?.close();
    socket = undefined;
  });
  after(async () => {
    await sf?.stop();
  });

  /** Replaces every flow with one shipped file (its simulators, if any, go with the rest). */
  async function deploy(file: string) {
    const from = sf.output().length;
    const flow = fs.readFileSync(path.join(ROOT, 'flows', file), 'utf8');
    const res = await fetch(new URL('flows', sf.url), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'Node-RED-Deployment-Type': 'full',
      },
      body: flow,
    });
    assert.ok(res.status === 200 || res.status === 204, `deploy answered ${res.status}`);
    await sf.waitForOutput(/Started flows/, 30_000, from);
    assert.doesNotMatch(sf.output().slice(from), /\[error\]/);
    // Asked of the file, not the log: the replaced default flow's simulator
    // may still log its own stop after the deploy began.
    const types = (JSON.parse(flow) as Array<{ type: string }>).map((n) => n.type);
    assert.ok(!types.includes('device-simulator'), 'no simulator in a scenario file');
  }

  function simulate(args: string[]) {
    return runSensflow(['simulate', ...args, '--json'], env).then((r) => {
      assert.equal(r.code, 0, r.stdout + r.stderr);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
    });
  }

  it('campus.json: sensors to history, charts and rules; statuses to the Fleet page; confirmed shutter orders', async () => {
    await deploy('campus.json');
    const simulated = simulate([
      'mqtt',
      '--customer',
      'demo-campus',
      '--every',
      '1',
      '--status-every',
      '2',
      '--duration',
      '20',
    ]);
    socket = await DashboardSocket.connect(sf.url);
    const seen = await socket.messageFor(
      'sf-fleet-view',
      (m) => m.topic === 'seen' && payloadOf<{ id: string }>(m).id === 'demo-u4-300-env',
      15_000,
    );
    assert.equal(seen._customer, 'demo-campus');
    // Live points come once a second, the latest of each line in one message.
    const live = await socket.messageFor(
      'sf-chart-co2',
      (m) =>
        Array.isArray(m.payload) &&
        payloadOf<Array<{ series: string }>>(m).some((p) => p.series === 'u4/300'),
      15_000,
    );
    assert.equal(live._customer, 'demo-campus');
    const point = payloadOf<Array<{ series: string; y: number }>>(live).find(
      (p) => p.series === 'u4/300',
    )!;
    assert.equal(typeof point.y, 'number');

    await socket.send('sf-fleet-view', { topic: 'refresh' });
    const snapshot = await socket.messageFor('sf-fleet-view', (m) => m.topic === 'snapshot');
    const env300 = payloadOf<
      Array<{ id: string; state: string; summary: Array<{ label: string }> }>
    >(snapshot).find((d) => d.id === 'demo-u4-300-env')!;
    assert.equal(env300.state, 'online');
    assert.deepEqual(
      env300.summary.map((s) => s.label),
      ['Firmware', 'Free memory', 'Sensors', 'Uptime (s)'],
    );

    const ordered = socket.events.length;
    await socket.send('sf-actuators-view', {
      topic: 'command',
      payload: { deviceId: 'demo-u4-301-shutter', kind: 'shutter', order: 'down' },
    });
    // Rules may drive other actuators meanwhile (CO2 in u4/300 turns its
    // ventilation on): wait for this shutter's messages only.
    const result = await socket.messageFor(
      'sf-actuators-view',
      (m) => m.topic === 'result' && payloadOf<Msg>(m).id === 'demo-u4-301-shutter',
      20_000,
      ordered,
    );
    assert.equal(payloadOf<{ state: string }>(result).state, 'confirmed');
    const state = await socket.messageFor(
      'sf-actuators-view',
      (m) => m.topic === 'state' && payloadOf<Msg>(m).id === 'demo-u4-301-shutter',
      10_000,
      ordered,
    );
    assert.deepEqual(
      { ...payloadOf<Msg>(state), at: 0 },
      { id: 'demo-u4-301-shutter', kind: 'shutter', status: 'closed', at: 0 },
    );

    // History is written in batches (about a second): ask until it has both.
    await waitFor(
      async () => {
        const from = socket!.events.length;
        await socket!.send('sf-sensors-range', { topic: 'range', payload: '1h' });
        const event = await socket!.waitFor(
          (e) =>
            socket!.events.indexOf(e) >= from &&
            e[0] === 'msg-input:sf-chart-temperature' &&
            (e[1] as Msg).action === 'replace',
        );
        const points = payloadOf<Array<{ series: string }>>(event[1] as Msg);
        const series = new Set(points.map((p) => p.series));
        assert.ok(series.has('u4/300') && series.has('ambient'), [...series].join(' '));
      },
      15_000,
      1000,
    );

    // The demo's CO2 in u4/300 climbs above 1000 ppm (3 readings in a row).
    await waitFor(
      async () => {
        const from = socket!.events.length;
        await socket!.send('sf-alarms-view', { topic: 'refresh' });
        const event = await socket!.waitFor(
          (e) =>
            socket!.events.indexOf(e) >= from &&
            e[0] === 'msg-input:sf-alarms-view' &&
            (e[1] as Msg).topic === 'active',
        );
        const items = payloadOf<{ items: Array<{ ruleId: string; location: string }> }>(
          event[1] as Msg,
        ).items;
        assert.ok(
          items.some((a) => a.ruleId === 'co2/co2-high' && a.location === 'u4/300'),
          'the demo CO2 level raised its alarm',
        );
      },
      20_000,
      1000,
    );
    const report = await simulated;
    assert.equal(report.devices, 9, 'the MQTT devices of demo-campus');
    assert.equal(report.connected, 9);
    assert.ok(report.readings > 0 && report.statuses > 0);
    assert.ok(report.echoes >= 1);
  });

  it('smart-home.json: room temperatures live and retained, relay orders confirmed', async () => {
    await deploy('smart-home.json');
    const simulated = simulate([
      'mqtt',
      '--customer',
      'demo-home',
      '--every',
      '1',
      '--duration',
      '10',
    ]);
    socket = await DashboardSocket.connect(sf.url);
    const room = await socket.messageFor(
      'sf-home-view',
      (m) => m.topic === 'room' && payloadOf<{ room: string }>(m).room === 'kitchen',
      15_000,
    );
    assert.equal(typeof payloadOf<{ temperature: number }>(room).temperature, 'number');
    assert.equal(room._customer, 'demo-home');
    await socket.send('sf-home-view', {
      topic: 'command',
      payload: { deviceId: 'demo-home-kitchen-relay', order: 'on' },
    });
    const result = await socket.messageFor('sf-home-view', (m) => m.topic === 'result', 20_000);
    assert.deepEqual(payloadOf<{ id: string; state: string }>(result).state, 'confirmed');
    const relay = await socket.messageFor('sf-home-view', (m) => m.topic === 'relay');
    assert.equal(payloadOf<{ status: string }>(relay).status, 'on');
    const report = await simulated;
    assert.equal(report.devices, 5);
    await socket.close();

    // No device runs now: after a redeploy, the last temperatures come from
    // the broker's retained messages.
    await deploy('smart-home.json');
    socket = await DashboardSocket.connect(sf.url);
    await socket.send('sf-home-view', { topic: 'refresh' });
    await waitFor(
      async () => {
        await socket!.send('sf-home-view', { topic: 'refresh' });
        const rooms = socket!
          .messagesFor('sf-home-view')
          .filter((m) => m.topic === 'rooms')
          .pop();
        const known = payloadOf<Array<{ room: string; temperature?: number }>>(
          rooms ?? { payload: [] },
        );
        assert.deepEqual(
          known
            .filter((r) => typeof r.temperature === 'number')
            .map((r) => r.room)
            .sort(),
          ['bedroom', 'kitchen', 'living'],
        );
      },
      10_000,
      500,
    );
  });

  it('eot-server.json: the console reaches an EOT device and its answers come back; readings go to history', async () => {
    await deploy('eot-server.json');
    const startedAt = Date.now();
    const simulated = simulate([
      'eot',
      '--customer',
      'demo-campus',
      '--devices',
      '3',
      '--rate',
      '1',
      '--duration',
      '20',
    ]);
    socket = await DashboardSocket.connect(sf.url);
    await socket.send('sf-console-view', { topic: 'refresh' });
    const devices = await socket.messageFor('sf-console-view', (m) => m.topic === 'devices');
    const first = payloadOf<Array<{ id: string; transport: string }>>(devices).slice(0, 3);
    assert.deepEqual(
      first.map((d) => [d.id, d.transport]),
      [
        ['demo-eot-01', 'eot'],
        ['demo-eot-02', 'eot'],
        ['demo-home-hub', 'eot'],
      ],
    );
    await waitFor(async () => {
      assert.ok(
        socket!
          .messagesFor('sf-console-view')
          .some(
            (m) => m.topic === 'frame' && payloadOf<{ origin: string }>(m).origin === 'demo-eot-01',
          ),
        'demo-eot-01 is logged in and sending',
      );
    }, 15_000);
    const frameFrom = (type: string, field: string) =>
      socket!.messageFor('sf-console-view', (m) => {
        const f = payloadOf<{ origin: string; type: string; fields: string[] }>(m);
        return (
          m.topic === 'frame' &&
          f.origin === 'demo-eot-01' &&
          f.type === type &&
          f.fields[0] === field
        );
      });
    await socket.send('sf-console-view', {
      topic: 'send',
      payload: { destination: 'demo-eot-01', type: 'WRITE', fields: ['led', 'on'] },
    });
    const ack = await frameFrom('ACK', 'led');
    assert.deepEqual(payloadOf<{ destination: string; fields: string[] }>(ack).fields, [
      'led',
      'on',
    ]);
    assert.equal(ack._customer, 'demo-campus');
    await socket.send('sf-console-view', {
      topic: 'send',
      payload: { destination: 'nobody', type: 'READ', fields: ['temperature'] },
    });
    const error = await socket.messageFor('sf-console-view', (m) => m.topic === 'error');
    assert.match(payloadOf<{ text: string }>(error).text, /nobody/);

    const report = await simulated;
    assert.equal(
      report.loggedIn,
      3,
      'the first three devices of demo-campus, demo-eot-01 among them',
    );
    const store = await openStore({ kind: 'sqlite', file: path.join(sf.home, 'sensflow.db') });
    try {
      await waitFor(
        async () => {
          const { rows } = await sql<{ n: number }>`
          select count(*) as n from history_points p join history_series s on s.id = p.series_id
          where s.measurement = 'temperature' and s.tags like '%"location":"u4/302"%'
            and s.tags like '%"customer":"demo-campus"%' and p.time >= ${startedAt}`.execute(
            store.db,
          );
          assert.ok(Number(rows[0].n) > 0, 'EOT readings in history');
        },
        10_000,
        500,
      );
    } finally {
      await store.close();
    }
  });
});
