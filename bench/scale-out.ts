// Scale-out benchmark: what the broker hop between instances costs EOT
// routing. Two Sensflow instances (bench/peers/scale-out-instance.ts, each its
// own process: store on MariaDB, lease and bus on Mosquitto, an EOT server in
// the cluster) and one load generator (bench/peers/eot-load.ts). Pairs of devices
// exchange MSG frames in a closed loop, `--window` in flight per side, every
// message timed from send to receipt: pairs on the same instance (one server
// hop) against pairs split over the two instances (device → instance A →
// Mosquitto → instance B → device, and back). The two kinds take turns, in
// `--rounds` rounds; the medians are compared.
// Run: npm run build && npx tsx bench/scale-out.ts [--pairs 200] [--window 4]
//      [--seconds 3] [--rounds 3]
// The machine is shared: numbers vary with its load; the ratio matters.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { DeviceSecrets } from '../lib/registry/credentials';
import { openStore } from '../lib/store/store';
import { mariadb, startMosquitto, stopAllServices } from '../test/support/services';
import type { Device } from './peers/eot-load';
import { startPeer } from './peers/ipc';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '200' },
    window: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
  },
});
const PAIRS = Number(values.pairs);
const WINDOW = Number(values.window);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const SECRET = 'benchmark-credential-secret-0123456789';

/** Registers 4 × pairs devices of one customer, serials sealed as usual. */
async function prepareStore(url: string): Promise<Device[]> {
  const store = await openStore({ kind: 'mysql', url });
  const secrets = new DeviceSecrets(SECRET);
  const now = Date.now();
  await store.db
    .insertInto('customers')
    .values({ id: 'bench', name: 'Bench', created_at: now })
    .execute();
  const devices: Device[] = [];
  for (let i = 0; i < PAIRS * 4; i++)
    devices.push({ id: `d${i}`, type: 'esp32', serial: `serial-${i}` });
  for (let i = 0; i < devices.length; i += 500) {
    await store.db
      .insertInto('devices')
      .values(
        devices.slice(i, i + 500).map((d) => ({
          id: d.id,
          type: d.type,
          customer_id: 'bench',
          location: 'bench/room',
          uid_type: 'other',
          uid: null,
          description: '',
          config: '{}',
          enabled: 1,
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
  await store.close();
  return devices;
}

interface Run {
  perSecond: number;
  p50: number;
  p99: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number) => Math.round(n).toLocaleString('en');

async function main(): Promise<void> {
  const loadBefore = os.loadavg()[0].toFixed(1);
  // As docs/scale-out.md advises: no Nagle delay on the broker's side either.
  const [maria, mosquitto] = await Promise.all([
    mariadb(),
    startMosquitto({ config: ['set_tcp_nodelay true'] }),
  ]);
  const url = await maria.createDatabase('bench_scale_out');
  const devices = await prepareStore(url);
  const a = await startPeer('peers/scale-out-instance.ts', ['a', url, mosquitto.url, SECRET], {
    profile: true,
  });
  const b = await startPeer('peers/scale-out-instance.ts', ['b', url, mosquitto.url, SECRET], {
    profile: true,
  });
  // Each instance sees the other after a beat of its lease.
  await new Promise((r) => setTimeout(r, 1500));
  const load = await startPeer('peers/eot-load.ts');
  const same = devices.slice(0, PAIRS * 2);
  const cross = devices.slice(PAIRS * 2);
  await load.ask({
    cmd: 'pairs-setup',
    name: 'same',
    kind: 'eot',
    port: a.ready.port,
    devices: same,
    pairs: PAIRS,
    subnet: 10,
  });
  await load.ask({
    cmd: 'pairs-setup',
    name: 'cross',
    kind: 'eot',
    port: a.ready.port,
    port2: b.ready.port,
    devices: cross,
    pairs: PAIRS,
    subnet: 11,
  });
  const runs: Record<'same' | 'cross', Run[]> = { same: [], cross: [] };
  const cpu: Record<'same' | 'cross', number[]> = { same: [], cross: [] };
  let resent = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const order: Array<'same' | 'cross'> = round % 2 === 0 ? ['same', 'cross'] : ['cross', 'same'];
    for (const name of order) {
      const before = await Promise.all([a, b].map((p) => p.ask<{ cpuMs: number }>({ cmd: 'cpu' })));
      const run = await load.ask<Run>({
        cmd: 'pairs-run',
        name,
        window: WINDOW,
        warmupMs: 500,
        durationMs: SECONDS * 1000,
      });
      const after = await Promise.all(
        [a, b].map((p) => p.ask<{ cpuMs: number; resends: number }>({ cmd: 'cpu' })),
      );
      resent +=
        after.reduce((n, x) => n + x.resends, 0) -
        before.reduce((n, x) => n + (x as { resends?: number }).resends!, 0);
      runs[name].push(run);
      cpu[name].push(after.reduce((s, x, i) => s + x.cpuMs - before[i].cpuMs, 0) / (SECONDS + 1));
    }
  }
  await load.ask({ cmd: 'close-all' });
  for (const p of [load, a, b]) await p.stop();
  await mosquitto.process.stop();
  await stopAllServices();

  const summary = (name: 'same' | 'cross') => ({
    perSecond: median(runs[name].map((r) => r.perSecond)),
    p50: median(runs[name].map((r) => r.p50)),
    p99: median(runs[name].map((r) => r.p99)),
    cpu: median(cpu[name]) / 10,
  });
  const s = summary('same');
  const c = summary('cross');
  console.log(
    `# scale-out: ${PAIRS} pairs, window ${WINDOW}, ${SECONDS} s per run, ${ROUNDS} rounds; ` +
      `${os.cpus().length} cores, load average ${loadBefore} → ${os.loadavg()[0].toFixed(1)}`,
  );
  console.log("| pairs | messages/s (median; runs) | p50 | p99 | instances' CPU |");
  console.log('|---|---|---|---|---|');
  for (const [label, name, x] of [
    ['same instance', 'same', s],
    ['across instances', 'cross', c],
  ] as const) {
    console.log(
      `| ${label} | ${fmt(x.perSecond)} (${runs[name].map((r) => fmt(r.perSecond)).join(', ')}) | ` +
        `${x.p50.toFixed(1)} ms | ${x.p99.toFixed(1)} ms | ${x.cpu.toFixed(0)} % |`,
    );
  }
  console.log(
    `across / same: messages/s ${(c.perSecond / s.perSecond).toFixed(2)}, ` +
      `p99 ${(c.p99 / s.p99).toFixed(2)}× (+${(c.p99 - s.p99).toFixed(1)} ms); ` +
      `${resent} batches sent again for want of an acknowledgement`,
  );
}

main().catch(async (err: unknown) => {
  console.error(err);
  await stopAllServices().catch(() => undefined);
  process.exit(1);
});
