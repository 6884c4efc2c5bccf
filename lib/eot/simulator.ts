// Simulated EOT devices: they log in (AUTH2 or the seed's AUTH), subscribe to
// the alarm they raise, then send readings, events, alarms and messages to
// peers of their customer at a rate, answer READ and WRITE like real devices,
// and count everything, with the latency of messages between them. Given a
// list of servers, each device roams (roaming.ts): when its server goes away
// it logs in to the next one and subscribes again.
import { performance } from 'node:perf_hooks';
import { Clock, systemClock, TimerHandle } from '../util/clock';
import type { LoginMode } from './auth';
import { ClientOptions, DeviceCredentials, EotClient } from './client';
import type { Frame } from './codec';
import { RoamingDevice, ServerAddress } from './roaming';
import { SERVER } from './constants';

export interface SimulatedDevice extends DeviceCredentials {
  /** Devices of one customer message each other; unknown: all one group. */
  customer?: string;
}

export type FrameKind = 'reading' | 'event' | 'alarm' | 'msg';

export interface SimulatorOptions {
  connect: ClientOptions;
  /** Several servers (one cluster's instances): devices spread over them and
   *  move to the next one when theirs fails. `connect` gives the codec and TLS. */
  servers?: ServerAddress[];
  devices: SimulatedDevice[];
  /** Frames per second per device; 0: log in and stay idle. */
  ratePerDevice: number;
  /** Relative weights of what the devices send. */
  mix?: Partial<Record<FrameKind, number>>;
  mode?: LoginMode;
  /** Logins in flight at once. Default 100. */
  concurrency?: number;
  /** Log in again this long after the server closed a connection; unset: stay away. */
  reconnectMs?: number;
  clock?: Clock;
}

export interface SimulatorReport {
  devices: number;
  loggedIn: number;
  loginFailed: number;
  /** Time to log every device in, and the rate of handshakes. */
  loginMs: number;
  handshakesPerSecond: number;
  sent: Record<string, number>;
  received: Record<string, number>;
  errors: Record<string, number>;
  /** Device-to-device MSG latency, send to receipt. */
  latencyMs: { count: number; p50: number; p99: number; max: number };
  closedByServer: number;
  /** Logins on another server after a connection was lost (roaming devices). */
  reconnects: number;
}

export const DEFAULT_MIX: Record<FrameKind, number> = { reading: 70, event: 10, alarm: 5, msg: 15 };
const TICK_MS = 100;
const MAX_SAMPLES = 200_000;
const ALARM = 'smoke';

export class Simulator {
  private readonly clients: Array<EotClient | undefined> = [];
  private readonly roamers: RoamingDevice[] = [];
  private readonly groups = new Map<string, number[]>();
  private readonly sent: Record<string, number> = {};
  private readonly received: Record<string, number> = {};
  private readonly errors: Record<string, number> = {};
  private readonly samples: number[] = [];
  private readonly clock: Clock;
  private readonly mix: Array<[FrameKind, number]>;
  private loginFailed = 0;
  private loginMs = 0;
  private closedByServer = 0;
  private timer?: TimerHandle;
  private carry = 0;
  private cursor = 0;
  private stopped = false;
  private readonly values: number[] = [];

  constructor(private readonly options: SimulatorOptions) {
    this.clock = options.clock ?? systemClock;
    const mix = { ...DEFAULT_MIX, ...options.mix };
    this.mix = (Object.entries(mix) as Array<[FrameKind, number]>).filter(([, w]) => w > 0);
    options.devices.forEach((d, i) => {
      const group = d.customer ?? '';
      if (!this.groups.has(group)) this.groups.set(group, []);
      this.groups.get(group)!.push(i);
      this.values.push(18 + Math.random() * 10);
    });
  }

  /** Logs every device in (in parallel, bounded), then starts sending. */
  async start(): Promise<void> {
    const started = performance.now();
    const devices = this.options.devices;
    let next = 0;
    const worker = async () => {
      while (next < devices.length && !this.stopped) {
        const i = next++;
        this.clients[i] = await this.connect(i);
        const again = this.options.reconnectMs;
        if (!this.clients[i] && again !== undefined)
          this.clock.setTimeout(() => this.reconnect(i), again);
      }
    };
    const concurrency = Math.max(1, this.options.concurrency ?? 100);
    await Promise.all(Array.from({ length: Math.min(concurrency, devices.length) }, worker));
    this.loginMs = performance.now() - started;
    if (this.options.ratePerDevice > 0 && !this.stopped) this.schedule();
  }

  /** Stops sending and closes every connection; returns the final report. */
  stop(): SimulatorReport {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    for (const r of this.roamers) r.stop();
    for (const c of this.clients) c?.close();
    return this.report();
  }

  report(): SimulatorReport {
    const loggedIn = this.clients.filter((c) => c && !c.closed).length;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const at = (q: number) =>
      sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0;
    const attempted = this.clients.filter(Boolean).length + this.loginFailed;
    return {
      devices: this.options.devices.length,
      loggedIn,
      loginFailed: this.loginFailed,
      loginMs: Math.round(this.loginMs),
      handshakesPerSecond: this.loginMs > 0 ? Math.round((attempted * 1000) / this.loginMs) : 0,
      sent: { ...this.sent },
      received: { ...this.received },
      errors: { ...this.errors },
      latencyMs: {
        count: sorted.length,
        p50: round(at(0.5)),
        p99: round(at(0.99)),
        max: round(sorted[sorted.length - 1] ?? 0),
      },
      closedByServer: this.closedByServer,
      reconnects: this.roamers.reduce((n, r) => n + Math.max(0, r.logins - 1), 0),
    };
  }

  private async connect(i: number): Promise<EotClient | undefined> {
    const device = this.options.devices[i];
    const servers = this.options.servers;
    if (servers && servers.length > 0) {
      const roamer = new RoamingDevice({
        ...this.options.connect,
        servers,
        first: i,
        device: { ...device, mode: this.options.mode ?? device.mode },
      });
      this.roamers[i] = roamer;
      roamer.on('login', (client) => {
        this.clients[i] = client;
        this.attach(i, client);
      });
      if (!(await roamer.start())) this.loginFailed++;
      return roamer.client;
    }
    let client: EotClient;
    try {
      client = await EotClient.connect(this.options.connect);
    } catch {
      this.loginFailed++;
      return undefined;
    }
    if (!(await client.login({ ...device, mode: this.options.mode ?? device.mode }))) {
      this.loginFailed++;
      client.close();
      return undefined;
    }
    this.attach(i, client);
    return client;
  }

  /** A logged-in device starts answering and subscribes (again, after a move). */
  private attach(i: number, client: EotClient): void {
    client.on('frame', (frame) => this.onFrame(i, client, frame));
    // Frames that came with the login (e.g. its offline queue).
    for (const frame of client.takeReceived()) this.onFrame(i, client, frame);
    client.once('close', () => {
      if (this.stopped) return;
      this.closedByServer++;
      const again = this.options.reconnectMs;
      if (again !== undefined) this.clock.setTimeout(() => this.reconnect(i), again);
    });
    if (this.options.ratePerDevice > 0) this.send(client, SERVER, 'SUB', [ALARM]);
  }

  private reconnect(i: number): void {
    if (this.stopped) return;
    this.connect(i).then((client) => {
      if (this.stopped) client?.close();
      else if (client) this.clients[i] = client;
      else if (this.options.reconnectMs !== undefined)
        this.clock.setTimeout(() => this.reconnect(i), this.options.reconnectMs);
    });
  }

  private onFrame(i: number, client: EotClient, frame: Frame): void {
    count(this.received, frame.type);
    switch (frame.type) {
      case 'MSG': {
        const m = /^sim:(\d+(?:\.\d+)?)$/.exec(frame.fields[0] ?? '');
        if (m && this.samples.length < MAX_SAMPLES)
          this.samples.push(performance.timeOrigin + performance.now() - Number(m[1]));
        // A person's message (a dashboard console) is acknowledged, as devices do.
        else if (!m)
          this.send(client, frame.origin, 'ACK', ['MSG', `received ${frame.fields[0] ?? ''}`]);
        break;
      }
      case 'READ':
        this.send(client, frame.origin, 'READING', [
          frame.fields[0],
          this.values[i].toFixed(1),
          'C',
          String(Date.now()),
        ]);
        break;
      case 'WRITE':
        this.send(client, frame.origin, 'ACK', [frame.fields[0], frame.fields[1] ?? '']);
        break;
      case 'ERROR':
        count(this.errors, frame.fields[0] ?? '?');
        break;
    }
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.tick();
      if (!this.stopped) this.schedule();
    }, TICK_MS);
  }

  /** Sends this tick's share of frames, round-robin over the devices. */
  private tick(): void {
    const n = this.clients.length;
    if (n === 0) return;
    this.carry += (this.options.ratePerDevice * n * TICK_MS) / 1000;
    let budget = Math.floor(this.carry);
    this.carry -= budget;
    for (let tries = 0; budget > 0 && tries < n * 2; tries++) {
      const i = this.cursor;
      this.cursor = (this.cursor + 1) % n;
      const client = this.clients[i];
      if (!client || client.closed) continue;
      this.sendOne(i, client);
      budget--;
    }
  }

  private sendOne(i: number, client: EotClient): void {
    const kind = this.pick();
    if (kind === 'reading') {
      this.values[i] += (Math.random() - 0.5) * 0.6;
      this.send(client, SERVER, 'READING', [
        'temperature',
        this.values[i].toFixed(1),
        'C',
        String(Date.now()),
      ]);
    } else if (kind === 'event') {
      this.send(client, SERVER, 'EVENT', [
        'heartbeat',
        JSON.stringify({ uptime: process.uptime() | 0 }),
      ]);
    } else if (kind === 'alarm') {
      this.send(client, SERVER, 'ALARM', [ALARM, '1']);
    } else {
      const group = this.groups.get(this.options.devices[i].customer ?? '')!;
      const peer = group.length > 1 ? group[(group.indexOf(i) + 1) % group.length] : i;
      const stamp = (performance.timeOrigin + performance.now()).toFixed(3);
      this.send(client, this.options.devices[peer].id, 'MSG', [`sim:${stamp}`]);
    }
  }

  private pick(): FrameKind {
    const total = this.mix.reduce((s, [, w]) => s + w, 0);
    let r = Math.random() * total;
    for (const [kind, w] of this.mix) if ((r -= w) < 0) return kind;
    return this.mix[this.mix.length - 1][0];
  }

  private send(client: EotClient, destination: string, type: string, fields: string[]): void {
    if (client.closed || !client.id) return;
    client.send({ origin: client.id, destination, type, fields });
    count(this.sent, type);
  }
}

function count(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
