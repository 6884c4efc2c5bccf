// The EOT device server: TCP and TLS listeners on one event loop for
// thousands of devices. It has each connection log in (handshake.ts), closes
// whoever is too slow to log in, idle, flooding or not reading, cuts a device
// off when the registry disables or removes it (registry-watch.ts), and hands
// logged-in traffic to the Router. Flows listen to its events. As one
// of several instances it records where each device is (presence) and
// reaches devices logged in elsewhere over the bus (cluster-link.ts).
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import type { Kysely } from 'kysely';
import type { ClusterView } from '../cluster/cluster';
import type { DeviceDirectory } from '../registry/directory';
import type { Database } from '../store/schema';
import { Clock, systemClock, TimerHandle } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import { newNonce } from './auth';
import { Authenticator } from './authenticator';
import type { Frame } from './codec';
import { SERVER } from './constants';
import { EotCluster } from './cluster-link';
import { Connection, ConnectionHost } from './connection';
import { DeviceLog, DeviceReport } from './device-log';
import { closingError, Handshake, LoginInfo } from './handshake';
import {
  connectedDevices,
  countDropped,
  countLogin,
  openConnections,
  queueDepth,
  refusedConnections,
} from './metrics';
import { OfflineQueue } from './offline-queue';
import { EotServerOptions, resolveOptions, ResolvedOptions } from './options';
import { listen, normalizeAddress, portOf } from './listening';
import type { OutboundFrame, SendResult } from './outbound';
import { PresenceTable } from './presence';
import { watchRegistry } from './registry-watch';
import { DeviceFrame, Router } from './router';

export type { DeviceFrame } from './router';
export type { LoginInfo } from './handshake';
export type { OutboundFrame, SendResult } from './outbound';
export { SendError } from './outbound';

export interface EotServerDeps {
  directory: DeviceDirectory;
  /** The store: offline queue, events and alarms, login guards. */
  db: Kysely<Database>;
  clock?: Clock;
  logger?: Logger;
  /** With several instances on one store and broker: the cluster, and this
   *  server's id in it (the same on every instance). */
  cluster?: { view: ClusterView; serverId: string };
}

export interface EotServerEvents {
  /** A frame from a logged-in device that passed the checks (PING excepted). */
  frame: [DeviceFrame];
  event: [DeviceReport];
  alarm: [DeviceReport];
  login: [LoginInfo];
  logout: [{ id: string; customer: string; reason: string }];
  /** A queued frame from the flows expired undelivered. */
  expired: [{ frame: Frame; customer: string }];
  /** An ACK to SERVER from a device on another instance (for actuator commands here). */
  'peer-frame': [DeviceFrame];
  /** A queued order from the flows that expired, reported by another instance. */
  'peer-expired': [{ frame: Frame; customer: string }];
}

export class EotServer extends EventEmitter<EotServerEvents> {
  readonly options: ResolvedOptions;
  readonly authenticator: Authenticator;
  readonly queue: OfflineQueue;
  readonly log: DeviceLog;
  private readonly router: Router;
  private readonly handshake: Handshake;
  private readonly clock: Clock;
  private readonly logger?: Logger;
  private readonly connections = new Set<Connection>();
  private readonly host: ConnectionHost;
  private readonly inflight = new Set<Promise<void>>();
  private tcp?: net.Server;
  private tlsServer?: tls.Server;
  private sweepTimer?: TimerHandle;
  private queueTimer?: TimerHandle;
  private unwatch?: () => void;
  private sweeps = 0;
  private stopped = false;

  constructor(
    options: EotServerOptions,
    private readonly deps: EotServerDeps,
  ) {
    super();
    this.options = resolveOptions(options);
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger;
    this.authenticator = new Authenticator(
      deps.directory,
      deps.db,
      this.clock,
      {
        legacyAuth: this.options.legacyAuth,
        throttle: this.options.throttle,
        replayWindowMs: this.options.replayWindowMs,
      },
      deps.logger,
    );
    this.queue = new OfflineQueue(deps.db);
    this.log = new DeviceLog(deps.db);
    this.router = new Router(
      this.options,
      deps.directory,
      this.queue,
      this.log,
      {
        frame: (f) => this.emit('frame', f),
        report: (kind, r) => this.emit(kind, r),
        expired: (frame, customer) => this.emit('expired', { frame, customer }),
        peer: (kind, frame, customer) =>
          kind === 'frame'
            ? this.emit('peer-frame', { ...frame, customer })
            : this.emit('peer-expired', { frame, customer }),
        wantsFrames: () => this.listenerCount('frame') > 0,
      },
      this.clock,
      deps.logger,
    );
    this.handshake = new Handshake({
      options: this.options,
      authenticator: this.authenticator,
      router: this.router,
      directory: deps.directory,
      clock: this.clock,
      logger: deps.logger,
      stopped: () => this.stopped,
      loggedIn: (info) => this.emit('login', info),
    });
    this.host = {
      onFrame: (conn, raw) => this.onFrame(conn, raw),
      onOversize: (conn) => {
        countDropped('frame_too_large');
        conn.close(
          'frame_too_large',
          closingError(conn, 'FRAME_TOO_LARGE', 'frame too large', this.router.codec()),
        );
      },
      onClose: (conn, reason) => this.onClose(conn, reason),
    };
  }

  /** Opens the listeners; resolves with their ports. */
  async start(): Promise<{ port?: number; tlsPort?: number }> {
    const o = this.options;
    this.unwatch = watchRegistry(this.deps.directory, this.router.online, this.logger);
    if (this.deps.cluster) {
      this.router.cluster = new EotCluster(
        {
          cluster: this.deps.cluster.view,
          serverId: this.deps.cluster.serverId,
          presence: new PresenceTable(this.deps.db),
          clock: this.clock,
          logger: this.logger,
        },
        this.router.localSide(),
      );
    }
    queueDepth.set(await this.queue.depth());
    try {
      if (o.port !== undefined) {
        this.tcp = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
        if (o.maxConnections > 0) this.tcp.maxConnections = o.maxConnections;
        await listen(this.tcp, o.port, o.host);
      }
      if (o.tls) {
        const { port, host, ...tlsOptions } = o.tls;
        this.tlsServer = tls.createServer(
          { ...tlsOptions, handshakeTimeout: o.handshakeTimeoutMs },
          (socket) => this.accept(socket),
        );
        this.tlsServer.on('tlsClientError', () => countDropped('tls_error'));
        // Counted before the TLS handshake too, which the per-address limit does not see.
        if (o.maxConnections > 0) this.tlsServer.maxConnections = o.maxConnections;
        await listen(this.tlsServer, port, host ?? o.host);
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.scheduleSweep();
    this.scheduleQueueSweep();
    return { port: portOf(this.tcp), tlsPort: portOf(this.tlsServer) };
  }

  /** Closes the listeners and every connection; waits for frames being handled. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.sweepTimer);
    this.clock.clearTimeout(this.queueTimer);
    this.unwatch?.();
    this.unwatch = undefined;
    this.router.cluster?.stop();
    const closing = [this.tcp, this.tlsServer].map(
      (s) => new Promise<void>((resolve) => (s?.listening ? s.close(() => resolve()) : resolve())),
    );
    for (const conn of [...this.connections]) conn.close('server_stopped');
    await Promise.all(closing);
    await Promise.allSettled([...this.inflight]);
  }

  get ports(): { port?: number; tlsPort?: number } {
    return { port: portOf(this.tcp), tlsPort: portOf(this.tlsServer) };
  }

  isOnline(id: string): boolean {
    return this.router.online.has(id);
  }

  /** Whether instance `peer` of the cluster has told this one of a conditional
   *  subscription to `sensor` there, so readings of it are sent over (read-only:
   *  tests wait on it; always false without a cluster). */
  peerSubscribed(peer: string, customer: string, sensor: string): boolean {
    return this.router.cluster?.peerWants(peer, customer, sensor) ?? false;
  }

  /** Ids of the logged-in devices of a customer. */
  devicesOnline(customer: string): string[] {
    return this.router.devicesOnline(customer);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Whether the very same frame already waits in the offline queue (an order sent again). */
  isQueued(frame: OutboundFrame): Promise<boolean> {
    return this.queue.holds({
      origin: frame.origin ?? SERVER,
      destination: frame.destination,
      type: frame.type,
      fields: frame.fields,
    });
  }

  /** Sends a frame from the flows; throws a SendError for an unknown device,
   *  one of another customer, or one offline for a type that is not queued. */
  send(frame: OutboundFrame): Promise<SendResult> {
    return this.router.send(frame);
  }

  // ------------------------------------------------------------ connections

  private accept(socket: net.Socket): void {
    const address = normalizeAddress(socket.remoteAddress);
    const o = this.options;
    if (this.stopped || (o.maxConnections > 0 && this.connections.size >= o.maxConnections)) {
      refusedConnections('max_connections');
      socket.destroy();
      return;
    }
    if (!this.handshake.admit(address)) {
      refusedConnections('address_limit');
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const conn = new Connection(
      socket,
      address,
      newNonce(),
      this.host,
      this.clock,
      o.maxFrameBytes,
      o.maxOutboundBytes,
    );
    this.connections.add(conn);
    openConnections.inc();
    this.handshake.hello(conn);
  }

  private onFrame(conn: Connection, raw: Buffer): void | Promise<void> {
    const handling =
      conn.state === 'online' ? this.router.handle(conn, raw) : this.handshake.onFrame(conn, raw);
    return handling && this.track(handling);
  }

  private onClose(conn: Connection, reason: string): void {
    if (!this.connections.delete(conn)) return;
    openConnections.dec();
    this.handshake.done(conn);
    if (this.router.unregister(conn)) {
      connectedDevices.dec();
      if (conn.session) this.router.cluster?.release(conn);
      this.logger?.debug(`EOT ${conn.id} disconnected: ${reason}`);
      this.emit('logout', { id: conn.id!, customer: conn.customerId!, reason });
    }
  }

  // ------------------------------------------------------------ timers

  private scheduleSweep(): void {
    if (this.stopped) return;
    this.sweepTimer = this.clock.setTimeout(() => {
      this.sweep();
      this.scheduleSweep();
    }, this.options.sweepIntervalMs);
  }

  /** Closes connections that did not log in in time, and devices silent for too long. */
  private sweep(): void {
    const now = this.clock.now();
    const { handshakeTimeoutMs, idleTimeoutMs } = this.options;
    for (const conn of this.connections) {
      if (conn.state === 'online') {
        if (idleTimeoutMs > 0 && now - conn.lastActivity >= idleTimeoutMs) conn.close('idle');
      } else if (now - conn.connectedAt >= handshakeTimeoutMs) {
        countLogin('timeout');
        conn.close('handshake_timeout');
      }
    }
    if (++this.sweeps % 600 === 0) {
      this.track(
        this.authenticator
          .prune()
          .catch((err: unknown) => this.logger?.warn(`EOT prune: ${errorMessage(err)}`)),
      );
    }
  }

  private scheduleQueueSweep(): void {
    if (this.stopped) return;
    this.queueTimer = this.clock.setTimeout(() => {
      const run = this.router
        .expire()
        .catch((err: unknown) => this.logger?.warn(`EOT queue expiry: ${errorMessage(err)}`))
        .finally(() => this.scheduleQueueSweep());
      this.track(run);
    }, this.options.queueSweepMs);
  }

  // ------------------------------------------------------------ helpers

  private track(p: Promise<void>): Promise<void> {
    this.inflight.add(p);
    const done = () => void this.inflight.delete(p);
    p.then(done, done);
    return p;
  }
}
