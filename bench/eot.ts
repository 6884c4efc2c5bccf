// EOT server benchmark, in one run with one load generator (a child process):
//  1. 10,000 devices log in (login storm: handshakes/s) and stay idle: server
//     memory per connection, against aedes and Mosquitto holding as many idle
//     MQTT connections;
//  2. 1,000 pairs of devices exchanging MSG in a closed loop: messages/s and
//     p99 latency, against a raw Node `net` echo of the same frames and
//     Mosquitto routing the same bytes between MQTT clients.
// Run: npm run build && npx tsx bench/eot.ts [--devices 10000] [--pairs 1000] [--seconds 3]
//      [--window 4] [--rounds 3]
// The machine is shared: numbers taken under load vary; the ratios matter.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DeviceSecrets } from '../lib/registry/credentials';
import { openStore } from '../lib/store/store';
import { freePort, waitForPort } from '../test/support/net';
import type { Device } from './peers/eot-load';
import { startPeer } from './peers/ipc';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '10000' },
    pairs: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '3' },
    window: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
  },
});
const DEVICES = Number(values.devices);
const PAIRS = Number(values.pairs);
const SECONDS = Number(values.seconds);
const WINDOW = Number(values.window);
const ROUNDS = Number(values.rounds);
const SECRET = 'benchmark-credential-secret-0123456789';

async function prepareStore(dir: string): Promise<Device[]> {
  const store = await openStore({ kind: 'sqlite', file: path.join(dir, 'bench.db') });
  const secrets = new DeviceSecrets(SECRET);
  const now = Date.now();
  await store.db
    .insertInto('customers')
    .values({ id: 'bench', name: 'Bench', created_at: now })
    .execute();
  const devices: Device[] = [];
  for (let i = 0; i < DEVICES; i++)
    devices.push({
      id: `d${String(i).padStart(5, '0')}`,
      type: 'esp32',
      serial: `serial-${i}-${now}`,
    });
  await store.db.transaction().execute(async (trx) => {
    for (let i = 0; i < devices.length; i += 500) {
      await trx
        .insertInto('devices')
        .values(
          devices.slice(i, i + 500).map((d) => ({
            id: d.id,
            uid_type: 'other',
            uid: null,
            type: d.type,
            customer_id: 'bench',
            description: '',
            location: 'bench/room',
            enabled: 1,
            config: '{}',
            serial_enc: secrets.encryptSerial(d.serial),
            mqtt_login: d.id,
            mqtt_password_hash: null,
            credentials_delivered: 0,
            outdated_after_ms: null,
            last_seen: null,
            last_status: null,
            created_at: now,
            updated_at: now,
          })),
        )
        .execute();
    }
  });
  await store.close();
  return devices;
}

async function startMosquitto(
  dir: string,
): Promise<{ port: number; rss(): number; stop(): Promise<void> }> {
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'set_tcp_nodelay true',
      'max_connections -1',
      'log_type error',
      '',
    ].join('\n'),
  );
  const proc = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: 'ignore' });
  await waitForPort(port, 10_000);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    port,
    rss: () => rssOf(proc.pid!),
    stop: async () => {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

type Mem = { rss: number; heapUsed: number; external: number; connections: number };
const kb = (bytes: number) => (bytes / 1024).toFixed(2);
const settle = (ms = 1000) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-bench-eot-'));
  console.log(
    `# EOT benchmark: ${DEVICES} devices, ${PAIRS} pairs, ${SECONDS} s per run, window ${WINDOW}`,
  );
  console.log(
    `# ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const devices = await prepareStore(dir);
  const load = await startPeer('peers/eot-load.ts');
  const results: Record<string, unknown> = {};

  // 1. EOT: login storm, idle memory, then routing between pairs.
  const eot = await startPeer(
    'peers/eot-server-proc.ts',
    ['eot', path.join(dir, 'bench.db'), SECRET],
    { gc: true, profile: true },
  );
  const before = await eot.ask<Mem>({ cmd: 'mem' });
  const storm = await load.ask<{ ok: number; failed: number; perSecond: number; ms: number }>({
    cmd: 'eot-login',
    port: eot.ready.port,
    devices,
    concurrency: 200,
    subnet: 10,
  });
  await settle();
  const after = await eot.ask<Mem>({ cmd: 'mem' });
  results.eotIdle = {
    connections: after.connections,
    rssPerConnectionKb: kb((after.rss - before.rss) / storm.ok),
    heapPerConnectionKb: kb(
      (after.heapUsed + after.external - before.heapUsed - before.external) / storm.ok,
    ),
  };
  results.loginStorm = {
    ok: storm.ok,
    failed: storm.failed,
    handshakesPerSecond: Math.round(storm.perSecond),
    seconds: (storm.ms / 1000).toFixed(1),
  };
  await load.ask({ cmd: 'close-all' });

  // 2. aedes: idle MQTT connections.
  const aedes = await startPeer('peers/eot-server-proc.ts', ['aedes'], { gc: true, profile: true });
  const aedesBefore = await aedes.ask<Mem>({ cmd: 'mem' });
  const aedesIdle = await load.ask<{ ok: number }>({
    cmd: 'mqtt-idle',
    port: aedes.ready.port,
    count: DEVICES,
    concurrency: 200,
    subnet: 13,
  });
  await settle();
  const aedesAfter = await aedes.ask<Mem>({ cmd: 'mem' });
  results.aedesIdle = {
    connections: aedesIdle.ok,
    rssPerConnectionKb: kb((aedesAfter.rss - aedesBefore.rss) / aedesIdle.ok),
  };
  await load.ask({ cmd: 'close-all' });
  await aedes.stop();

  // 3. Mosquitto: idle MQTT connections.
  const mosquitto = await startMosquitto(dir);
  const mosquittoBefore = mosquitto.rss();
  const mosquittoIdle = await load.ask<{ ok: number }>({
    cmd: 'mqtt-idle',
    port: mosquitto.port,
    count: DEVICES,
    concurrency: 200,
    subnet: 14,
  });
  await settle();
  results.mosquittoIdle = {
    connections: mosquittoIdle.ok,
    rssPerConnectionKb: kb((mosquitto.rss() - mosquittoBefore) / mosquittoIdle.ok),
  };
  await load.ask({ cmd: 'close-all' });

  // 4. Routing between pairs: EOT, a raw Node net echo of the same frames, and
  // Mosquitto routing the same bytes. All three stay connected and take turns
  // in short runs, in a rotating order, so a change of load on the shared
  // machine falls on all of them; the medians are compared.
  const echo = await startPeer('peers/eot-server-proc.ts', ['echo'], { gc: true, profile: true });
  const peers = [
    {
      name: 'eot',
      kind: 'eot',
      port: eot.ready.port,
      devices: devices.slice(0, PAIRS * 2),
      subnet: 11,
    },
    { name: 'nodeEcho', kind: 'echo', port: echo.ready.port, devices: [], subnet: 12 },
    { name: 'mosquitto', kind: 'mqtt', port: mosquitto.port, devices: [], subnet: 15 },
  ];
  for (const peer of peers) await load.ask({ cmd: 'pairs-setup', pairs: PAIRS, ...peer });
  type Pairs = { perSecond: number; p50: number; p99: number; messages: number };
  const runs: Record<string, Pairs[]> = { eot: [], nodeEcho: [], mosquitto: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < peers.length; k++) {
      const peer = peers[(round + k) % peers.length];
      runs[peer.name].push(
        await load.ask<Pairs>({
          cmd: 'pairs-run',
          name: peer.name,
          window: WINDOW,
          warmupMs: 500,
          durationMs: SECONDS * 1000,
        }),
      );
    }
  }
  await load.ask({ cmd: 'close-all' });
  await Promise.all([eot.stop(), echo.stop(), mosquitto.stop()]);
  load.child.kill();

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const summary = (name: string) => ({
    messagesPerSecond: Math.round(median(runs[name].map((r) => r.perSecond))),
    p50Ms: median(runs[name].map((r) => r.p50)).toFixed(2),
    p99Ms: median(runs[name].map((r) => r.p99)).toFixed(2),
    runs: runs[name].map((r) => Math.round(r.perSecond)),
  });
  const routing = {
    eot: summary('eot'),
    nodeEcho: summary('nodeEcho'),
    mosquitto: summary('mosquitto'),
  };
  results.routing = routing;
  results.ratios = {
    eotVsEcho: (routing.eot.messagesPerSecond / routing.nodeEcho.messagesPerSecond).toFixed(2),
    eotVsMosquitto: (routing.eot.messagesPerSecond / routing.mosquitto.messagesPerSecond).toFixed(
      2,
    ),
    p99EotVsMosquitto: (Number(routing.eot.p99Ms) / Number(routing.mosquitto.p99Ms)).toFixed(2),
  };
  console.log(JSON.stringify(results, null, 2));
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
