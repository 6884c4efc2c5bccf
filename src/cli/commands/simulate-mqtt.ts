// `sensflow simulate mqtt …`: simulated MQTT devices (topics.md) for the
// campus and smart-home scenarios. They are devices of the registry of the
// same settings: each gets new MQTT credentials (as after a reinstall, so
// never point it at real devices), logs in with them, publishes readings and
// its status, obeys orders for its actuators and echoes its new status.
import { MqttFleet, selectDevices } from '../../../lib/simulators/fleet';
import { systemClock } from '../../../lib/util/clock';
import { consoleLogger } from '../../../lib/util/log';
import { parse, UsageError } from '../usage';
import { withRegistry } from '../registry-store';

const USAGE = `usage: sensflow simulate mqtt [--customer C,…] [--device ID,…] [--devices N]
         [--every S] [--status-every S] [--kinds temperature,humidity,…]
         [--host H] [--port P] [--duration S] [--json]
  Without --customer or --device: the devices whose configuration has a "simulate" section.`;

export async function simulateMqtt(args: string[]): Promise<number | void> {
  if (args.includes('--help')) throw new UsageError(USAGE);
  const { values } = parse(args, {
    customer: { type: 'string' },
    device: { type: 'string' },
    devices: { type: 'string' },
    every: { type: 'string' },
    'status-every': { type: 'string' },
    kinds: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    duration: { type: 'string' },
    json: { type: 'boolean' },
  });
  const list = (raw: string | undefined) =>
    (raw ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const customers = list(values.customer);
  const ids = list(values.device);
  const kinds = list(values.kinds);
  for (const kind of kinds)
    if (!/^[a-z0-9_]{1,32}$/.test(kind)) throw new UsageError(`--kinds: "${kind}" is not a kind`);
  const limit = number('--devices', values.devices, Infinity, 1);
  const every = number('--every', values.every, 5, 0.1);
  const statusEvery = number('--status-every', values['status-every'], 30, 0.1);
  const duration = number('--duration', values.duration, 0, 0);
  const logger = consoleLogger(values.json ? 'error' : 'warn');

  return withRegistry(async ({ registry, settings }) => {
    const chosen = await selectDevices(registry, {
      customers,
      ids,
      marked: customers.length === 0 && ids.length === 0,
      transport: 'mqtt',
      limit,
    });
    if (chosen.length === 0)
      throw new UsageError(
        'no devices to simulate: give --customer or --device, or mark devices with a "simulate" section',
      );
    const external = settings.external.mqttUrl;
    const host = values.host ?? (external ? external.hostname : localHost(settings.mqtt.host));
    const port = number(
      '--port',
      values.port,
      external ? Number(external.port || 1883) : settings.mqtt.port,
      1,
    );
    const fleet = new MqttFleet({
      url: `mqtt://${host}:${port}`,
      registry,
      readingEveryMs: every * 1000,
      statusEveryMs: statusEvery * 1000,
      defaultKinds: kinds.length > 0 ? kinds : undefined,
      clock: systemClock,
      logger,
    });
    await fleet.start(chosen);
    const print = (final: boolean, r = fleet.report()) => {
      if (values.json) {
        if (final) console.log(JSON.stringify(r));
        return;
      }
      console.log(
        `${final ? 'done' : 'running'}: ${r.connected}/${r.devices} connected; ` +
          `${r.readings} readings, ${r.statuses} statuses, ${r.orders} orders, ${r.echoes} echoes`,
      );
    };
    if (!values.json) print(false);
    const progress = values.json ? undefined : setInterval(() => print(false), 5000);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
      if (duration > 0) setTimeout(resolve, duration * 1000);
    });
    clearInterval(progress);
    const report = fleet.report();
    await fleet.stop();
    print(true, report);
    return report.connected === 0 ? 1 : 0;
  });
}

function number(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min)
    throw new UsageError(`${name} must be a number of at least ${min}`);
  return value;
}

function localHost(host: string): string {
  if (['0.0.0.0', '::'].includes(host)) return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
