// End-to-end benchmark (issue 8): the real `bin/sensflow` with flows/campus.json
// deployed, 5,000 registered devices publishing over MQTT (each with its own
// login from /device/credentials), MQTT → topic segment → device → history and
// alarm rules, with the Fleet page open in headless Chromium. Reports:
//  1. the CPU share of the Sensflow process at 1,000 readings/s, against
//     ThingsBoard's published figure (5,000 devices at 1,000 msg/s: 27 % of a
//     2-vCPU machine);
//  2. the highest rate sustained without loss: every acknowledged reading in
//     history, the backlog drained within a few seconds;
//  3. the alarm rules' evaluations and the alarms they opened.
// Run: npm run bench -- e2e, or npm run build && npx tsx bench/e2e.ts
//      [--devices 5000] [--seconds 30] [--step-seconds 15] [--rates 2000,3500,5000,6500]
//      [--history embedded|influxdb|both] [--broker embedded|mosquitto]
// (mosquitto: Debian's Mosquitto with its dynamic-security plugin, kept in
// step with the registry by Sensflow, as docs/scale-out.md sets it up)
// BENCH_E2E_SECONDS=<s> shortens both windows; BENCH_PROFILE=<dir> writes a
// CPU profile of the Sensflow process there; BENCH_PRELOAD=<file> has it
// require a file first (e.g. to count SQL statements).
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { Registry } from '../lib/registry/registry';
import { openStore } from '../lib/store/store';
import { launchChromium } from '../test/support/browser';
import {
  adminToken,
  deployFlows,
  ROOT,
  SensflowProcess,
  startSensflowProcess,
  testEnv,
} from '../test/support/sensflow-process';
import { addServiceClient, dynsecAdmin, service } from '../test/support/scale-out';
import { startInfluxDb, startMosquitto } from '../test/support/services';
import type { LoadDevice } from './peers/e2e-load';
import { countReadings, HistoryCounter } from './peers/e2e-history';
import { cpuSeconds, processTree } from './peers/proc-cpu';

const envSeconds = process.env.BENCH_E2E_SECONDS;
const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: envSeconds ?? '30' },
    'step-seconds': { type: 'string', default: envSeconds ?? '15' },
    rates: { type: 'string', default: '2000,3500,5000,6500' },
    history: { type: 'string', default: 'embedded' },
    broker: { type: 'string', default: 'embedded' },
  },
});
if (values.broker !== 'embedded' && values.broker !== 'mosquitto')
  throw new Error(`--broker is embedded or mosquitto, not ${values.broker}`);
const BROKER = values.broker;
const DEVICES = Number(values.devices);
const SECONDS = Number(values.seconds);
const STEP_SECONDS = Number(values['step-seconds']);
const RATES = values.rates!.split(',').map(Number);
const WARMUP_SECONDS = Math.min(10, SECONDS);
const IDLE_SECONDS = Math.min(10, SECONDS);
/** A step keeps up when history holds every reading this long after the window. */
const DRAIN_MS = 5000;
const CORES = os.cpus().length;
const THINGSBOARD_SHARE = 27;
const PASSWORD = 'benchmark-admin-password';
const SECRET = 'benchmark-credential-secret-0123456789';
const CUSTOMER = 'bench-campus';

interface Peer {
  child: ChildProcess;
  ask<T>(message: object): Promise<T>;
}

/** The load generator: a child process answering commands by id over IPC. */
async function loadGenerator(): Promise<Peer> {
  const child = spawn(
    process.execPath,
    ['--require', require.resolve('tsx/cjs'), path.join(__dirname, 'peers', 'e2e-load.ts')],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  cleanups.push(() => child.kill('SIGKILL'));
  const waiting = new Map<number, (m: { ok: boolean; error?: string; result?: unknown }) => void>();
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
  });
  child.on('message', (m: { id: number; ok: boolean; error?: string; result?: unknown }) => {
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  let next = 0;
  return {
    child,
    ask: <T>(message: object) =>
      new Promise<T>((resolve, reject) => {
        const id = ++next;
        waiting.set(id, (m) => (m.ok ? resolve(m.result as T) : reject(new Error(m.error))));
        child.send({ id, ...message });
      }),
  };
}

const cleanups: Array<() => unknown> = [];
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Devices in 50 buildings of 100 rooms, one per room; one in 100 breathes CO2 over 1000 ppm. */
function campusDevices(n: number): LoadDevice[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `bench-${String(i).padStart(5, '0')}`,
    mac: `02:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff)
      .toString(16)
      .padStart(2, '0')}`,
    base: `b${Math.floor(i / 100)}/r${i % 100}`,
    co2High: i % 100 === 7,
  }));
}

/** The customer and its devices, through the registry, before the server starts. */
async function register(home: string, devices: LoadDevice[]): Promise<number> {
  const started = Date.now();
  const store = await openStore({ kind: 'sqlite', file: path.join(home, 'sensflow.db') });
  const registry = new Registry(store.db, { credentialSecret: SECRET });
  try {
    await registry.customers.add({ id: CUSTOMER, name: 'Benchmark campus' });
    for (const d of devices)
      await registry.addDevice({
        id: d.id,
        type: 'esp32',
        customerId: CUSTOMER,
        location: d.base,
        uidType: 'ethernet',
        uid: d.mac,
        description: 'benchmark device',
      });
  } finally {
    await registry.close();
    await store.close();
  }
  return (Date.now() - started) / 1000;
}

/** Values of some /metrics series, summed over their labels. */
async function metrics(sf: SensflowProcess, names: string[]): Promise<Record<string, number>> {
  const text = await (await fetch(new URL('metrics', sf.url))).text();
  const out: Record<string, number> = {};
  for (const name of names) {
    out[name] = 0;
    for (const line of text.split('\n'))
      if (line.startsWith(name) && /^[^ {]+/.exec(line)![0] === name)
        out[name] += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}

const RULE_METRICS = [
  'sensflow_alarm_evaluation_seconds_count',
  'sensflow_alarm_transitions_total',
  'sensflow_alarms_active',
];

interface Tracked {
  server: number;
  generator: number;
  /** influxd and mosquitto, when they are used: part of the server side, as
   *  SQLite and the broker are inside the Sensflow process otherwise. */
  influxdb?: number;
  mosquitto?: number;
}

/** CPU seconds of Sensflow, Chromium, the load generator (each with its
 *  children) and InfluxDB. */
function cpuNow(t: Tracked): {
  server: number;
  chromium: number;
  generator: number;
  influxdb: number;
  mosquitto: number;
} {
  const tree = processTree();
  const chromium = tree
    .descendants(process.pid)
    .filter((pid) => /chrom/i.test(tree.command(pid)))
    .filter((pid) => !tree.descendants(t.server).includes(pid));
  return {
    server: cpuSeconds([t.server, ...tree.descendants(t.server)]),
    chromium: cpuSeconds(chromium),
    generator: cpuSeconds([t.generator, ...tree.descendants(t.generator)]),
    influxdb: t.influxdb ? cpuSeconds([t.influxdb]) : 0,
    mosquitto: t.mosquitto ? cpuSeconds([t.mosquitto]) : 0,
  };
}

const share = (cpu: number, seconds: number) => (100 * cpu) / (seconds * CORES);

async function benchmark(backend: 'embedded' | 'influxdb'): Promise<Record<string, unknown>> {
  const devices = campusDevices(DEVICES);
  const env: Record<string, string> = {
    ...(await testEnv()),
    SENSFLOW_ADMIN_PASSWORD: PASSWORD,
    SENSFLOW_CREDENTIAL_SECRET: SECRET,
  };
  let influxUrl: string | undefined;
  let influxPid: number | undefined;
  if (backend === 'influxdb') {
    const influx = await startInfluxDb();
    influxPid = influx.process.pid;
    cleanups.push(() => influx.process.stop());
    influxUrl = `${influx.url}/bench_${Date.now()}`;
    env.SENSFLOW_INFLUX_URL = influxUrl;
  }
  let mosquitto: { port: number; pid?: number } | undefined;
  if (BROKER === 'mosquitto') {
    const broker = await startMosquitto({
      dynsec: { adminUser: dynsecAdmin.user, adminPassword: dynsecAdmin.password },
      config: ['set_tcp_nodelay true', 'max_queued_messages 10000'],
    });
    cleanups.push(() => broker.process.stop());
    addServiceClient(broker.port);
    env.SENSFLOW_MQTT_URL = `mqtt://${service.username}:${service.password}@127.0.0.1:${broker.port}`;
    env.SENSFLOW_MQTT_DYNSEC_USER = dynsecAdmin.user;
    env.SENSFLOW_MQTT_DYNSEC_PASSWORD = dynsecAdmin.password;
    mosquitto = { port: broker.port, pid: broker.process.pid };
  }
  cleanups.push(() => fs.rmSync(env.SENSFLOW_HOME, { recursive: true, force: true }));
  const registered = await register(env.SENSFLOW_HOME, devices);
  console.log(
    `# ${backend} history, ${BROKER} broker: ${DEVICES} devices registered in ${registered.toFixed(1)} s`,
  );

  // The Sensflow process, with a CPU profile when asked.
  const profileDir = process.env.BENCH_PROFILE;
  const spawnedAt = Date.now();
  const sf = await startSensflowProcess(
    env,
    profileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`]
      : process.env.BENCH_PRELOAD
        ? ['--require', process.env.BENCH_PRELOAD]
        : [],
  );
  cleanups.push(() => sf.child.kill('SIGKILL'));
  const token = await adminToken(sf.url, 'admin', PASSWORD);
  const flow = JSON.parse(fs.readFileSync(path.join(ROOT, 'flows', 'campus.json'), 'utf8'));
  await deployFlows(sf, token, flow);

  const counter: HistoryCounter = await countReadings(
    influxUrl ?? { sqlite: path.join(env.SENSFLOW_HOME, 'sensflow.db') },
  );
  cleanups.push(() => counter.close());

  const load = await loadGenerator();
  const tracked: Tracked = {
    server: sf.child.pid!,
    generator: load.child.pid!,
    influxdb: influxPid,
    mosquitto: mosquitto?.pid,
  };
  const connect = await load.ask<{
    connected: number;
    failed: number;
    firstFailures: string[];
    seconds: number;
  }>({
    cmd: 'connect',
    httpPort: sf.httpPort,
    mqttPort: mosquitto?.port ?? sf.mqttPort,
    devices,
    subnet: 20,
  });
  console.log(
    `# ${connect.connected} devices got their credentials and connected in ${connect.seconds.toFixed(1)} s` +
      (connect.failed ? `; ${connect.failed} failed: ${connect.firstFailures.join('; ')}` : ''),
  );
  if (connect.connected !== DEVICES) throw new Error('not every device connected');

  // The Fleet page, open for the whole run, showing every device.
  const browser: Browser = await launchChromium();
  cleanups.push(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(new URL('dashboard/fleet', sf.url).toString());
  await page.waitForSelector('.sf-row', { timeout: 60_000 });
  const pager = (await page.locator('.sf-pager').textContent({ timeout: 30_000 })) ?? '';
  console.log(`# Fleet page open: ${pager.replace(/\s+/g, ' ').trim()}`);

  // 0. What 5,000 connected devices and the open page cost without readings.
  const idle0 = cpuNow(tracked);
  const idleStart = Date.now();
  await delay(IDLE_SECONDS * 1000);
  const idle1 = cpuNow(tracked);
  const idleSeconds = (Date.now() - idleStart) / 1000;
  const idle = {
    seconds: idleSeconds,
    sensflowPercent: Number(share(idle1.server - idle0.server, idleSeconds).toFixed(1)),
    chromiumPercent: Number(share(idle1.chromium - idle0.chromium, idleSeconds).toFixed(1)),
  };
  console.log(`# idle (devices connected, no readings): ${JSON.stringify(idle)}`);

  // 1. CPU share at 1,000 readings/s after a warm-up. Each window starts
  // with history holding every reading acknowledged so far.
  // The warm-up first has every device publish each of its four kinds once,
  // so every history series exists (created once in a deployment's life),
  // then runs at the measured rate.
  await load.ask({ cmd: 'run', rate: 2000, seconds: (DEVICES * 4) / 2000 });
  await settled(load, counter);
  await load.ask({ cmd: 'run', rate: 1000, seconds: WARMUP_SECONDS });
  await settled(load, counter);
  const rulesBefore = await metrics(sf, RULE_METRICS);
  const cpuBefore = cpuNow(tracked);
  const windowFrom = (Date.now() - spawnedAt) / 1000;
  const steady = await load.ask<RunResult>({ cmd: 'run', rate: 1000, seconds: SECONDS });
  const cpuAfter = cpuNow(tracked);
  const seconds = steady.seconds;
  if (profileDir)
    console.log(
      `# profile: the window is ${windowFrom.toFixed(1)}–${(windowFrom + seconds).toFixed(1)} s after the start`,
    );
  const steadyEnd = await settled(load, counter);
  const rulesAfter = await metrics(sf, RULE_METRICS);
  const influxdb = share(cpuAfter.influxdb - cpuBefore.influxdb, seconds);
  const broker = share(cpuAfter.mosquitto - cpuBefore.mosquitto, seconds);
  // Ours is the whole server side: Sensflow, and InfluxDB and Mosquitto when used.
  const ours = share(cpuAfter.server - cpuBefore.server, seconds) + influxdb + broker;
  const cpu = {
    readingsPerSecond: Math.round(steady.published / seconds),
    seconds: Number(seconds.toFixed(1)),
    sensflowPercent: Number(share(cpuAfter.server - cpuBefore.server, seconds).toFixed(1)),
    ...(influxPid ? { influxdbPercent: Number(influxdb.toFixed(1)) } : {}),
    ...(mosquitto ? { mosquittoPercent: Number(broker.toFixed(1)) } : {}),
    serverSidePercent: Number(ours.toFixed(1)),
    chromiumPercent: Number(share(cpuAfter.chromium - cpuBefore.chromium, seconds).toFixed(1)),
    generatorPercent: Number(share(cpuAfter.generator - cpuBefore.generator, seconds).toFixed(1)),
    thingsboardPercent: THINGSBOARD_SHARE,
    oursVsThingsboard: Number((ours / THINGSBOARD_SHARE).toFixed(2)),
    goalUnder20: ours < 20,
    lost: steadyEnd.missing,
    ruleEvaluations:
      rulesAfter.sensflow_alarm_evaluation_seconds_count -
      rulesBefore.sensflow_alarm_evaluation_seconds_count,
  };
  console.log(`# CPU at 1,000 readings/s: ${JSON.stringify(cpu)}`);

  // 2. Steps up: every acknowledged reading stored, the backlog drained.
  const steps: Array<Record<string, unknown>> = [];
  let sustained = 0;
  for (const rate of RATES) {
    const cpu0 = cpuNow(tracked);
    const run = load.ask<RunResult>({ cmd: 'run', rate, seconds: STEP_SECONDS });
    // The backlog (acknowledged, not yet in history) at mid-window and at the end.
    await delay((STEP_SECONDS * 1000) / 2);
    const mid = await backlog(load, counter);
    const result = await run;
    const cpu1 = cpuNow(tracked);
    const end = await backlog(load, counter);
    const after = await settled(load, counter, 30_000);
    const step = {
      rate,
      achieved: Math.round(result.published / result.seconds),
      published: result.published,
      acked: result.acked,
      lost: after.missing,
      unacked: result.published - result.acked,
      backlogMid: mid,
      backlogEnd: end,
      drainMs: after.ms,
      sensflowPercent: Number(share(cpu1.server - cpu0.server, result.seconds).toFixed(1)),
      ...(influxPid
        ? {
            influxdbPercent: Number(
              share(cpu1.influxdb - cpu0.influxdb, result.seconds).toFixed(1),
            ),
          }
        : {}),
    };
    const ok =
      step.lost === 0 && step.unacked === 0 && step.achieved >= rate * 0.97 && after.ms <= DRAIN_MS;
    steps.push({ ...step, sustained: ok });
    console.log(`# step ${JSON.stringify({ ...step, sustained: ok })}`);
    if (!ok) break;
    sustained = rate;
  }
  const rules = await metrics(sf, RULE_METRICS);
  const rowsShown = await page.locator('.sf-row').count();
  const pagerEnd = ((await page.locator('.sf-pager').textContent()) ?? '').replace(/\s+/g, ' ');

  console.log(
    `# rules: ${JSON.stringify({
      evaluations: rules.sensflow_alarm_evaluation_seconds_count,
      transitions: rules.sensflow_alarm_transitions_total,
      activeAlarms: rules.sensflow_alarms_active,
    })}; Fleet page: ${rowsShown} rows shown, ${pagerEnd.trim()}`,
  );
  await load.ask({ cmd: 'close' });
  load.child.kill();
  await browser.close();
  const stopped = await sf.stop();
  await counter.close();
  return {
    backend,
    idle,
    cpu,
    steps,
    sustainedReadingsPerSecond: sustained,
    goal5000: sustained >= 5000,
    rules: {
      evaluations: rules.sensflow_alarm_evaluation_seconds_count,
      transitions: rules.sensflow_alarm_transitions_total,
      activeAlarms: rules.sensflow_alarms_active,
    },
    fleetPage: { rowsShown, pager: pagerEnd.trim() },
    sensflowExit: stopped,
  };
}

interface RunResult {
  published: number;
  acked: number;
  seconds: number;
}

/** Acknowledged readings not yet in history, now. */
async function backlog(load: Peer, counter: HistoryCounter): Promise<number> {
  const { acked } = await load.ask<{ acked: number }>({ cmd: 'progress' });
  return acked - (await counter.count());
}

/**
 * Waits until history holds every reading the broker acknowledged so far;
 * how long that took, and how many are missing when it gives up.
 */
async function settled(
  load: Peer,
  counter: HistoryCounter,
  timeoutMs = 30_000,
): Promise<{ ms: number; missing: number }> {
  const started = Date.now();
  const { acked } = await load.ask<{ acked: number }>({ cmd: 'progress' });
  let stored = await counter.count();
  while (stored < acked && Date.now() - started < timeoutMs) {
    await delay(100);
    stored = await counter.count();
  }
  return { ms: Date.now() - started, missing: acked - stored };
}

async function main(): Promise<void> {
  const tick = Number(execFileSync('getconf', ['CLK_TCK']).toString());
  console.log(
    `# End-to-end benchmark: ${DEVICES} devices, ${SECONDS} s at 1,000 readings/s, steps ${RATES.join(', ')} of ${STEP_SECONDS} s`,
  );
  console.log(
    `# ${CORES} vCPUs (os.cpus().length), clock tick ${tick} Hz, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const backends: Array<'embedded' | 'influxdb'> =
    values.history === 'both' ? ['embedded', 'influxdb'] : [values.history as 'embedded'];
  const results = [];
  for (const backend of backends) results.push(await benchmark(backend));
  console.log(JSON.stringify(results, null, 2));
}

async function cleanup(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch {
      // best effort: the rest still runs
    }
  }
}

process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => cleanup().then(() => process.exit()));
