// A simulated MQTT device (topics.md): it logs in to the broker with its own
// credentials, publishes `{"value", "value_units", "unitID"}` on
// `<base>/<kind>` for each sensor, its status on `<base>/device`, obeys
// orders on `<base>/<kind>/command` for its actuators and for itself
// (reboot, reinstall), and echoes its new status as real modules do.
// A refused login (new credentials after a reinstall) gets it new ones.
import mqtt, { MqttClient } from 'mqtt';
import type { Clock, TimerHandle } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import { MqttDeviceProfile, sensorValue } from './profile';

export interface Credentials {
  login: string;
  password: string;
}

export interface MqttDeviceOptions {
  /** The broker, e.g. `mqtt://127.0.0.1:1883`. */
  url: string;
  profile: MqttDeviceProfile;
  /** New credentials for the device (at start, and when a login is refused). */
  credentials: () => Promise<Credentials>;
  readingEveryMs: number;
  statusEveryMs: number;
  /** How long a module takes to carry out an order before it echoes. */
  echoDelayMs?: number;
  clock: Clock;
  random?: () => number;
  logger: Logger;
}

export interface DeviceCounts {
  readings: number;
  statuses: number;
  orders: number;
  echoes: number;
  logins: number;
}

/** MQTT CONNACK codes (3.1.1 and 5) that mean "not these credentials". */
const REFUSED_LOGIN = new Set([4, 5, 0x86, 0x87]);
const FIRMWARE = 'sensflow-sim 1.0';

export function statusOf(kind: string, order: unknown): string {
  const text = String(order);
  if (kind === 'shutter') return { up: 'open', down: 'closed', stop: 'stopped' }[text] ?? text;
  return text;
}

export class SimulatedMqttDevice {
  readonly counts: DeviceCounts = { readings: 0, statuses: 0, orders: 0, echoes: 0, logins: 0 };
  /** Each actuator's last status, by kind. */
  readonly state: Record<string, string> = {};
  private client?: MqttClient;
  private timers: TimerHandle[] = [];
  private startedAt = 0;
  private bootedAt = 0;
  private renewing?: Promise<void>;
  private stopped = false;
  private readonly random: () => number;

  constructor(private readonly options: MqttDeviceOptions) {
    this.random = options.random ?? Math.random;
  }

  get id(): string {
    return this.options.profile.id;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  async start(): Promise<void> {
    const { profile, clock } = this.options;
    this.startedAt = this.bootedAt = clock.now();
    const login = await this.options.credentials();
    const client = mqtt.connect(this.options.url, {
      clientId: `sim-${profile.id}-${Math.random().toString(16).slice(2, 8)}`,
      username: login.login,
      password: login.password,
      reconnectPeriod: 2000,
      // A refused login is retried too, with the credentials renewed meanwhile.
      reconnectOnConnackError: true,
      connectTimeout: 5000,
      clean: true,
    });
    this.client = client;
    client.on('connect', () => {
      this.counts.logins++;
      client.subscribe(`${profile.base}/+/command`, { qos: 1 }, (err) => {
        if (err) this.options.logger.warn(`${profile.id}: cannot subscribe: ${errorMessage(err)}`);
      });
      this.publishStatus();
    });
    client.on('message', (topic, payload) => this.onOrder(topic, payload));
    client.on('error', (err) => {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'number' && REFUSED_LOGIN.has(code)) this.renewCredentials();
      else this.options.logger.debug(`${profile.id}: ${errorMessage(err)}`);
    });
    this.every(this.options.readingEveryMs, () => this.publishReadings());
    this.every(this.options.statusEveryMs, () => this.publishStatus());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) this.options.clock.clearTimeout(t);
    this.timers = [];
    await this.client?.endAsync(true);
  }

  /** New credentials, used by the client's next reconnection (once at a time). */
  private renewCredentials(): void {
    if (this.renewing || this.stopped) return;
    this.renewing = this.options
      .credentials()
      .then((login) => {
        if (!this.client) return;
        this.client.options.username = login.login;
        this.client.options.password = login.password;
        this.options.logger.info(`${this.id}: new credentials after a refused login`);
      })
      .catch((err: unknown) =>
        this.options.logger.warn(`${this.id}: cannot get credentials: ${errorMessage(err)}`),
      )
      .finally(() => (this.renewing = undefined));
  }

  private every(ms: number, task: () => void): void {
    if (!(ms > 0)) return;
    const index = this.timers.length;
    const run = () => {
      if (this.stopped) return;
      task();
      this.timers[index] = this.options.clock.setTimeout(run, ms);
    };
    this.timers.push(this.options.clock.setTimeout(run, ms));
  }

  private publish(topic: string, body: unknown, retain = false, qos: 0 | 1 = 0): boolean {
    if (!this.client?.connected) return false;
    this.client.publish(topic, JSON.stringify(body), { qos, retain });
    return true;
  }

  private publishReadings(): void {
    const { profile, clock } = this.options;
    const elapsedS = (clock.now() - this.startedAt) / 1000;
    for (const sensor of profile.sensors) {
      const body = {
        value: sensorValue(sensor, elapsedS, this.random),
        value_units: sensor.unit,
        unitID: profile.id,
      };
      if (this.publish(`${profile.base}/${sensor.kind}`, body, profile.retain))
        this.counts.readings++;
    }
  }

  /** Any JSON object (topics.md); Sensflow keeps it as the device's last status. */
  private publishStatus(extra: Record<string, unknown> = {}): void {
    const { profile, clock } = this.options;
    const body = {
      unitID: profile.id,
      firmware: FIRMWARE,
      uptime: Math.round((clock.now() - this.bootedAt) / 1000),
      free_mem: 24_000 + Math.round(this.random() * 8000),
      sensors: profile.sensors.length,
      ...(Object.keys(this.state).length > 0 ? { actuators: { ...this.state } } : {}),
      ...extra,
    };
    if (this.publish(`${profile.base}/device`, body)) this.counts.statuses++;
  }

  private onOrder(topic: string, raw: Buffer): void {
    const { profile } = this.options;
    const kind = topic.slice(profile.base.length + 1, -'/command'.length);
    let order: { order?: unknown; dest?: unknown };
    try {
      order = JSON.parse(raw.toString()) as typeof order;
    } catch {
      return;
    }
    if (order.dest !== 'all' && order.dest !== profile.id) return;
    if (kind !== 'device' && !profile.actuators.includes(kind)) return;
    this.counts.orders++;
    this.options.clock.setTimeout(
      () => this.carryOut(kind, order.order),
      this.options.echoDelayMs ?? 300,
    );
  }

  private carryOut(kind: string, order: unknown): void {
    if (this.stopped) return;
    if (kind === 'device') {
      // The status on <base>/device names the unit: it is the echo.
      this.publishStatus({
        order: 'idle',
        status: order === 'reboot' ? 'rebooted' : String(order),
      });
      this.counts.echoes++;
      if (order === 'reboot') this.bootedAt = this.options.clock.now();
      return;
    }
    const status = statusOf(kind, order);
    this.state[kind] = status;
    const echo = { order: 'idle', unitID: this.options.profile.id, status };
    if (this.publish(`${this.options.profile.base}/${kind}`, echo, false, 1)) this.counts.echoes++;
  }
}
