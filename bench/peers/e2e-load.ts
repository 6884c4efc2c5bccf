// Load generator of the end-to-end benchmark (bench/e2e.ts): thousands of
// simulated campus devices, each as a real one: it fetches its MQTT
// credentials from /device/credentials (from its own loopback address, as
// each device has its own), logs in to the broker with them, subscribes to
// its orders, publishes its status, then readings in the topics.md format at
// QoS 1, paced so that all devices together make the rate asked. Commands
// arrive over IPC with an id; each answer carries its command's id (a
// `progress` may be answered while a `run` goes on).
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { MqttLite } from './mqtt-lite';
import { bounded, source } from './load-util';

export interface LoadDevice {
  id: string;
  mac: string;
  /** Base topic, `<building>/<room>`. */
  base: string;
  /** This device's CO2 sensor reads above the rules' 1000 ppm threshold. */
  co2High: boolean;
}

type Command =
  | { cmd: 'connect'; httpPort: number; mqttPort: number; devices: LoadDevice[]; subnet: number }
  | { cmd: 'run'; rate: number; seconds: number }
  | { cmd: 'progress' }
  | { cmd: 'close' };

const KINDS = [
  { kind: 'temperature', units: 'celsius', mean: 22, swing: 2 },
  { kind: 'humidity', units: 'percent', mean: 50, swing: 10 },
  { kind: 'co2', units: 'ppm', mean: 650, swing: 200 },
  { kind: 'luminosity', units: 'lux', mean: 300, swing: 200 },
];

interface Connected {
  device: LoadDevice;
  client: MqttLite;
  topics: string[];
  next: number;
}

const connected: Connected[] = [];
const totals = { published: 0, acked: 0 };
let running: { stop: () => void } | undefined;

/** GET /device/credentials?mac=…, as a device does on its first start. */
function credentials(
  port: number,
  mac: string,
  localAddress: string,
): Promise<{ login: string; password?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        localAddress,
        path: `/device/credentials?mac=${encodeURIComponent(mac)}`,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(JSON.parse(body) as { login: string; password?: string })
            : reject(new Error(`credentials for ${mac}: ${res.statusCode} ${body}`)),
        );
      },
    );
    req.on('error', reject);
  });
}

async function connect(c: Extract<Command, { cmd: 'connect' }>) {
  const failures: string[] = [];
  const started = performance.now();
  await bounded(c.devices.length, 50, async (i) => {
    const device = c.devices[i];
    const address = source(c.subnet, i);
    try {
      const { login, password } = await credentials(c.httpPort, device.mac, address);
      if (password === undefined) throw new Error(`${device.id}: no password handed out`);
      const client = await MqttLite.connect(c.mqttPort, device.id, address, {
        username: login,
        password,
      });
      client.onAck = () => totals.acked++;
      await client.subscribe(`${device.base}/+/command`, 1);
      client.publish(
        `${device.base}/device`,
        Buffer.from(
          JSON.stringify({ unitID: device.id, firmware: '1.4.2', free_mem: 31_000, sensors: 4 }),
        ),
      );
      connected.push({
        device,
        client,
        topics: KINDS.map((k) => `${device.base}/${k.kind}`),
        next: i % KINDS.length,
      });
    } catch (err) {
      failures.push(String(err));
    }
  });
  return {
    connected: connected.length,
    failed: failures.length,
    firstFailures: failures.slice(0, 3),
    seconds: (performance.now() - started) / 1000,
  };
}

function reading(d: Connected): void {
  const k = KINDS[d.next];
  const topic = d.topics[d.next];
  d.next = (d.next + 1) % KINDS.length;
  const value =
    k.kind === 'co2' && d.device.co2High
      ? 1100 + Math.round(Math.random() * 200)
      : Math.round((k.mean + (Math.random() * 2 - 1) * k.swing) * 10) / 10;
  const payload = { value, value_units: k.units, unitID: d.device.id };
  d.client.publish(topic, Buffer.from(JSON.stringify(payload)), 1);
  totals.published++;
}

/**
 * Publishes `rate` readings a second for `seconds`, the devices taking turns
 * (each publishes every `devices / rate` seconds); then waits up to 10 s for
 * the broker to acknowledge what is in flight.
 */
async function run(c: Extract<Command, { cmd: 'run' }>) {
  const start = { ...totals };
  const begun = performance.now();
  let sent = 0;
  let turn = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = (performance.now() - begun) / 1000;
      const due = Math.min(c.rate * elapsed, c.rate * c.seconds);
      while (sent < due) {
        reading(connected[turn]);
        turn = (turn + 1) % connected.length;
        sent++;
      }
      if (elapsed >= c.seconds) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 5);
    running = {
      stop: () => {
        clearInterval(timer);
        resolve();
      },
    };
  });
  running = undefined;
  const seconds = (performance.now() - begun) / 1000;
  const ackedAtEnd = totals.acked - start.acked;
  const deadline = performance.now() + 10_000;
  while (totals.acked < totals.published && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  return {
    published: totals.published - start.published,
    acked: totals.acked - start.acked,
    ackedAtEnd,
    seconds,
  };
}

process.on('message', (command: Command & { id: number }) => {
  const answer = async () => {
    switch (command.cmd) {
      case 'connect':
        return connect(command);
      case 'run':
        return run(command);
      case 'progress':
        return { ...totals };
      case 'close':
        running?.stop();
        for (const d of connected.splice(0)) d.client.destroy();
        return {};
    }
  };
  answer().then(
    (result) => process.send!({ id: command.id, ok: true, result }),
    (err: unknown) => process.send!({ id: command.id, ok: false, error: String(err) }),
  );
});
// The benchmark's end is ours too: without it, nothing keeps us alive.
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
