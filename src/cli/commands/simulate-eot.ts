// `sensflow simulate eot …`: simulated EOT devices for demos, tests and the
// benchmark. Devices and their serials come from the registry of the same
// settings (SENSFLOW_HOME / SENSFLOW_MYSQL_URL), or from a JSON-lines file of
// {"id","type","serial","customer"}.
import fs from 'node:fs';
import path from 'node:path';
import { separatorByte } from '../../../lib/eot/codec';
import { parseServers, ServerAddress } from '../../../lib/eot/roaming';
import { FrameKind, SimulatedDevice, Simulator, SimulatorReport } from '../../../lib/eot/simulator';
import { Registry } from '../../../lib/registry/registry';
import { credentialSecretFor } from '../../../lib/security/credential-secret';
import { openStore } from '../../../lib/store/store';
import { loadSettings, SensflowSettings } from '../../../settings';
import { parse, UsageError } from '../usage';

const USAGE = `usage: sensflow simulate eot [--devices N] [--rate R] [--duration S] [--auth auth2|auth]
         [--host H] [--port P] [--servers H:P,H:P,…] [--tls] [--insecure] [--separator C] [--file devices.jsonl]
         [--customer C] [--mix reading:70,event:10,alarm:5,msg:15] [--concurrency N] [--json]`;

export async function simulateEot(args: string[]): Promise<number | void> {
  if (args.includes('--help')) throw new UsageError(USAGE);
  const { values } = parse(args, {
    devices: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    auth: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    servers: { type: 'string' },
    tls: { type: 'boolean' },
    insecure: { type: 'boolean' },
    separator: { type: 'string' },
    file: { type: 'string' },
    customer: { type: 'string' },
    mix: { type: 'string' },
    concurrency: { type: 'string' },
    json: { type: 'boolean' },
  });
  const settings = loadSettings();
  const count = number('--devices', values.devices, 10, 1);
  const rate = number('--rate', values.rate, 1, 0);
  const duration = number('--duration', values.duration, 0, 0);
  const mode = (values.auth ?? 'auth2').toUpperCase();
  if (mode !== 'AUTH2' && mode !== 'AUTH') throw new UsageError('--auth is auth2 or auth');
  const devices = (
    values.file
      ? readDeviceFile(values.file)
      : await devicesFromRegistry(settings, values.customer, count)
  ).slice(0, count);
  if (devices.length === 0)
    throw new UsageError('no devices to simulate: register some, or give --file');

  let separator: number;
  try {
    separator = separatorByte(values.separator);
  } catch (err) {
    throw new UsageError(`--separator: ${(err as Error).message}`);
  }
  let servers: ServerAddress[] | undefined;
  try {
    servers = values.servers === undefined ? undefined : parseServers(values.servers);
  } catch (err) {
    throw new UsageError(`--servers: ${(err as Error).message}`);
  }
  if (servers && servers.length === 0) throw new UsageError('--servers: no server given');
  const simulator = new Simulator({
    servers,
    connect: {
      host: values.host ?? '127.0.0.1',
      port: number('--port', values.port, settings.eot.port, 1),
      tls: values.tls ? { rejectUnauthorized: !values.insecure } : undefined,
      separator,
    },
    devices,
    ratePerDevice: rate,
    mix: parseMix(values.mix),
    mode: mode as 'AUTH2' | 'AUTH',
    concurrency: number('--concurrency', values.concurrency, 100, 1),
  });
  const print = (report: SimulatorReport, final: boolean) => {
    if (values.json) {
      if (final) console.log(JSON.stringify(report));
      return;
    }
    const sent =
      Object.entries(report.sent)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'nothing';
    const received =
      Object.entries(report.received)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'nothing';
    console.log(
      `${final ? 'done' : 'running'}: ${report.loggedIn}/${report.devices} logged in` +
        ` (${report.loginFailed} refused, ${report.handshakesPerSecond} logins/s); sent ${sent};` +
        ` received ${received}; MSG latency p50 ${report.latencyMs.p50} ms, p99 ${report.latencyMs.p99} ms` +
        (servers ? `; ${report.reconnects} moved to another server` : ''),
    );
  };

  await simulator.start();
  if (!values.json) print(simulator.report(), false);
  const progress = values.json
    ? undefined
    : setInterval(() => print(simulator.report(), false), 5000);
  await new Promise<void>((resolve) => {
    const finish = () => resolve();
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
    if (duration > 0) setTimeout(finish, duration * 1000);
  });
  clearInterval(progress);
  const report = simulator.stop();
  print(report, true);
  return report.loggedIn === 0 && report.loginFailed > 0 ? 1 : 0;
}

function number(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min)
    throw new UsageError(`${name} must be a number of at least ${min}`);
  return value;
}

function parseMix(raw: string | undefined): Partial<Record<FrameKind, number>> | undefined {
  if (!raw) return undefined;
  const mix: Partial<Record<FrameKind, number>> = { reading: 0, event: 0, alarm: 0, msg: 0 };
  for (const part of raw.split(',')) {
    const [kind, weight] = part.split(':').map((s) => s.trim());
    if (!['reading', 'event', 'alarm', 'msg'].includes(kind) || !(Number(weight) >= 0))
      throw new UsageError(
        `--mix: "${part}" is not kind:weight (kinds: reading, event, alarm, msg)`,
      );
    mix[kind as FrameKind] = Number(weight);
  }
  return mix;
}

/** JSON lines: {"id": "...", "type": "...", "serial": "...", "customer": "..."}. */
export function readDeviceFile(file: string): SimulatedDevice[] {
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(file), 'utf8');
  } catch (err) {
    throw new UsageError(`--file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`);
  }
  return text
    .split('\n')
    .map((line, i) => [line.trim(), i + 1] as const)
    .filter(([line]) => line !== '' && !line.startsWith('#'))
    .map(([line, n]) => {
      let d: Record<string, unknown>;
      try {
        d = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new UsageError(`--file: line ${n} is not JSON`);
      }
      for (const key of ['id', 'type', 'serial'])
        if (typeof d[key] !== 'string' || d[key] === '')
          throw new UsageError(`--file: line ${n} needs "${key}"`);
      return {
        id: d.id as string,
        type: d.type as string,
        serial: d.serial as string,
        customer: typeof d.customer === 'string' ? d.customer : undefined,
      };
    });
}

async function devicesFromRegistry(
  settings: SensflowSettings,
  customerId: string | undefined,
  limit: number,
): Promise<SimulatedDevice[]> {
  const store = await openStore(
    settings.external.mysqlUrl
      ? { kind: 'mysql', url: settings.external.mysqlUrl.toString() }
      : { kind: 'sqlite', file: path.join(settings.home, 'sensflow.db') },
  );
  try {
    const secret = credentialSecretFor(settings.home, {
      SENSFLOW_CREDENTIAL_SECRET: settings.security.credentialSecret,
    });
    const registry = new Registry(store.db, { credentialSecret: secret });
    const devices: SimulatedDevice[] = [];
    for (let offset = 0; devices.length < limit; offset += 1000) {
      const page = await registry.listDevices({ enabled: true, customerId, limit: 1000, offset });
      for (const d of page.items) {
        const serial = await registry.deviceSecret(d.id);
        if (serial) devices.push({ id: d.id, type: d.type, serial, customer: d.customerId });
      }
      if (page.items.length < 1000) break;
    }
    await registry.close();
    return devices;
  } finally {
    await store.close();
  }
}
