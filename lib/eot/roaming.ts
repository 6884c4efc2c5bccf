// A device that knows several servers (instances of one Sensflow cluster) and
// stays logged in to one of them: it tries them in turn, and when its server
// cannot be reached, refuses the login or drops the connection, it waits a
// little (0.5 s doubling to 10 s, with jitter, so a crowd of devices does not
// come back at once) and logs in to the next one. Its offline queue follows
// it (kept in the shared store); its subscriptions do not, so it subscribes
// again after each login (the `login` event). The documented device behaviour
// (README, "Devices find a server") is exactly this.
import { EventEmitter } from 'node:events';
import type tls from 'node:tls';
import { backoffDelay, BackoffOptions } from '../util/backoff';
import { Clock, systemClock, TimerHandle } from '../util/clock';
import { DeviceCredentials, EotClient } from './client';
import type { CodecOptions } from './codec';

export interface ServerAddress {
  host: string;
  port: number;
}

export interface RoamingOptions extends CodecOptions {
  servers: ServerAddress[];
  device: DeviceCredentials;
  tls?: tls.ConnectionOptions;
  /** Which server to try first (spreads devices over the servers). Default 0. */
  first?: number;
  backoff?: BackoffOptions;
  clock?: Clock;
}

export const ROAMING_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 10_000, jitter: 0.5 };

/** Parses `host:port,host:port` (a port alone means 127.0.0.1). */
export function parseServers(text: string): ServerAddress[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(entry) ?? /^()()(\d{1,5})$/.exec(entry);
      const port = m ? Number(m[3]) : NaN;
      if (!m || port < 1 || port > 65535)
        throw new Error(`"${entry}" is not host:port (e.g. iot1.example.org:4004)`);
      return { host: m[1] || m[2] || '127.0.0.1', port };
    });
}

export class RoamingDevice extends EventEmitter<{
  login: [EotClient, ServerAddress];
  down: [ServerAddress];
}> {
  client?: EotClient;
  /** Logins so far (the first included). */
  logins = 0;
  private next: number;
  private attempt = 0;
  private timer?: TimerHandle;
  private stopped = false;
  private readonly clock: Clock;

  constructor(private readonly options: RoamingOptions) {
    super();
    if (options.servers.length === 0) throw new Error('a roaming device needs at least one server');
    this.clock = options.clock ?? systemClock;
    this.next = (options.first ?? 0) % options.servers.length;
  }

  get online(): boolean {
    return !!this.client && !this.client.closed;
  }

  /** Logs in to the first server that takes it; resolves true then, or false
   *  once every server was tried once without success (it goes on trying). */
  start(): Promise<boolean> {
    return new Promise((resolve) => {
      let tried = 0;
      const onLogin = () => {
        this.off('down', onDown);
        resolve(true);
      };
      const onDown = () => {
        if (++tried >= this.options.servers.length) {
          this.off('login', onLogin);
          this.off('down', onDown);
          resolve(false);
        }
      };
      this.once('login', onLogin);
      this.on('down', onDown);
      void this.connect();
    });
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.client?.close();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const server = this.options.servers[this.next];
    this.next = (this.next + 1) % this.options.servers.length;
    let client: EotClient | undefined;
    try {
      client = await EotClient.connect({ ...this.options, ...server, tls: this.options.tls });
      if (this.stopped || !(await client.login(this.options.device))) throw new Error('refused');
    } catch {
      client?.close();
      this.emit('down', server);
      return this.retry();
    }
    this.client = client;
    this.attempt = 0;
    this.logins++;
    client.once('close', () => {
      if (this.client === client) this.client = undefined;
      this.emit('down', server);
      this.retry();
    });
    this.emit('login', client, server);
  }

  private retry(): void {
    if (this.stopped) return;
    const wait = backoffDelay(this.attempt++, this.options.backoff ?? ROAMING_BACKOFF);
    this.timer = this.clock.setTimeout(() => void this.connect(), wait);
  }
}
