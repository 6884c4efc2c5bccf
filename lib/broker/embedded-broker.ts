// The embedded MQTT broker (aedes) used when no external broker is configured:
// TCP, optional TLS, and MQTT over WebSocket on the HTTP server. Retained
// messages and QoS 1/2 sessions are kept in a LevelDB folder, so they survive
// a restart.
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { Aedes, AuthenticateError, Client, Subscription } from 'aedes';
import persistenceLevel from 'aedes-persistence-level';
import { Level } from 'level';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { errorMessage, Logger } from '../util/log';
import { dedupePerDelivery } from './emit-dedupe';

/** Who a connected client is, as the access policy decided at login. */
export interface Principal {
  username: string;
  /** Free-form data the policy keeps for its own decisions. */
  [key: string]: unknown;
}

/** Who may connect, publish and subscribe. The registry supplies the real one. */
export interface BrokerPolicy {
  authenticate(
    username: string | undefined,
    password: Buffer | undefined,
    clientId: string,
  ): Promise<Principal | null>;
  canPublish(principal: Principal, topic: string): boolean | Promise<boolean>;
  canSubscribe(principal: Principal, filter: string): boolean | Promise<boolean>;
}

export interface EmbeddedBrokerOptions {
  /** LevelDB folder for retained messages and sessions. */
  dataDir: string;
  host: string;
  port: number;
  tls?: { port: number; key: Buffer; cert: Buffer };
  policy: BrokerPolicy;
  logger: Logger;
}

// CONNACK return codes (MQTT 3.1.1, 3.2.2.3); aedes declares them as a const
// enum, which does not exist at run time.
const BAD_USERNAME_OR_PASSWORD = 4;
const SERVER_UNAVAILABLE = 3;

const PRINCIPAL = Symbol('sensflow.principal');
type ClientWithPrincipal = Client & { [PRINCIPAL]?: Principal };

export class EmbeddedBroker {
  private wss?: WebSocketServer;

  private constructor(
    readonly aedes: Aedes,
    private readonly level: Level<string, unknown>,
    private readonly tcp: net.Server,
    private readonly tlsServer: tls.Server | undefined,
    private readonly logger: Logger,
    private readonly policy: { current: BrokerPolicy },
  ) {}

  static async start(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
    const level = new Level<string, unknown>(options.dataDir, { valueEncoding: 'view' });
    await level.open();
    // The handlers read the policy at each call, so setPolicy() applies to
    // every later login and publish.
    const policy = { current: options.policy };
    const aedes = await Aedes.createBroker({
      persistence: persistenceLevel(level),
      ...policyHandlers(() => policy.current, options.logger),
    });
    dedupePerDelivery(aedes, options.logger);
    aedes.on('clientError', (client, err) =>
      options.logger.debug(`mqtt client ${client.id}: ${errorMessage(err)}`),
    );
    aedes.on('connectionError', (_client, err) =>
      options.logger.debug(`mqtt connection: ${errorMessage(err)}`),
    );

    const tcp = net.createServer((socket) => aedes.handle(socket));
    const tlsServer = options.tls
      ? tls.createServer({ key: options.tls.key, cert: options.tls.cert }, (socket) =>
          aedes.handle(socket),
        )
      : undefined;
    const broker = new EmbeddedBroker(aedes, level, tcp, tlsServer, options.logger, policy);
    try {
      await listen(tcp, options.port, options.host);
      if (tlsServer && options.tls) await listen(tlsServer, options.tls.port, options.host);
    } catch (err) {
      await broker.close();
      throw err;
    }
    return broker;
  }

  /** The ports actually bound (useful when 0 was asked for). */
  get ports(): { tcp: number; tls?: number } {
    const port = (s: net.Server) => (s.address() as net.AddressInfo | null)?.port ?? 0;
    return { tcp: port(this.tcp), tls: this.tlsServer ? port(this.tlsServer) : undefined };
  }

  /** Replaces who may connect, publish and subscribe (e.g. by the registry's rules). */
  setPolicy(policy: BrokerPolicy): void {
    this.policy.current = policy;
  }

  /** Closes every connection whose principal matches (a device just
   *  disabled, reset or moved); returns how many were closed. */
  disconnect(match: (principal: Principal) => boolean): number {
    const clients = (this.aedes as unknown as { clients: Record<string, ClientWithPrincipal> })
      .clients;
    let closed = 0;
    for (const client of Object.values(clients)) {
      const principal = client[PRINCIPAL];
      if (principal && match(principal)) {
        client.close();
        closed++;
      }
    }
    return closed;
  }

  get running(): boolean {
    return !this.aedes.closed && this.tcp.listening;
  }

  /** Serves MQTT over WebSocket on `path` of an HTTP server, leaving its other
   *  upgrades (Node-RED's editor, the dashboard's socket.io) alone. */
  attachWebSocket(server: http.Server, path: string): void {
    const wss = new WebSocketServer({ noServer: true });
    this.wss = wss;
    server.on('upgrade', (req, socket, head) => {
      const pathname = new URL(req.url ?? '/', 'http://x').pathname;
      if (pathname !== path) return;
      wss.handleUpgrade(req, socket, head, (ws) => {
        const stream = createWebSocketStream(ws);
        stream.on('error', () => stream.destroy());
        this.aedes.handle(stream, req);
      });
    });
  }

  async close(): Promise<void> {
    // Stop accepting, then close the clients (aedes does), then wait for the listeners.
    const listeners = Promise.all([
      closeServer(this.tcp),
      this.tlsServer && closeServer(this.tlsServer),
    ]);
    for (const client of this.wss?.clients ?? []) client.terminate();
    this.wss?.close();
    if (!this.aedes.closed) await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await listeners;
    if (this.level.status === 'open') await this.level.close();
    this.logger.debug('embedded MQTT broker closed');
  }
}

function policyHandlers(policy: () => BrokerPolicy, logger: Logger) {
  const refuse = (code: number, message: string) =>
    Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
  return {
    authenticate(
      client: ClientWithPrincipal,
      username: string | undefined,
      password: Buffer | undefined,
      done: (error: AuthenticateError | null, success: boolean | null) => void,
    ) {
      policy()
        .authenticate(username, password, client.id)
        .then(
          (principal) => {
            if (!principal) return done(refuse(BAD_USERNAME_OR_PASSWORD, 'bad login'), false);
            client[PRINCIPAL] = principal;
            done(null, true);
          },
          (err: unknown) => {
            logger.warn(`mqtt login check failed: ${errorMessage(err)}`);
            done(refuse(SERVER_UNAVAILABLE, 'login check failed'), false);
          },
        );
    },
    authorizePublish(
      client: ClientWithPrincipal | null,
      packet: { topic: string },
      done: (err?: Error | null) => void,
    ) {
      // client is null for messages the broker publishes itself (wills, $SYS).
      if (!client) return done(null);
      const principal = client[PRINCIPAL];
      if (!principal || packet.topic.startsWith('$SYS'))
        return done(new Error('publish not allowed'));
      const answer = (ok: boolean) =>
        done(ok ? null : new Error(`publish to ${packet.topic} not allowed`));
      const allowed = policy().canPublish(principal, packet.topic);
      // Every reading passes here: a policy answering at once (the registry's,
      // from the principal kept at login) costs no promise.
      if (typeof allowed === 'boolean') return answer(allowed);
      allowed.then(answer, (err: unknown) =>
        done(err instanceof Error ? err : new Error(String(err))),
      );
    },
    authorizeSubscribe(
      client: ClientWithPrincipal,
      sub: Subscription,
      done: (err: Error | null, sub?: Subscription | null) => void,
    ) {
      const principal = client[PRINCIPAL];
      if (!principal) return done(new Error('subscribe not allowed'));
      Promise.resolve(policy().canSubscribe(principal, sub.topic)).then(
        // A refused filter is answered with SUBACK 0x80, the connection stays.
        (ok) => done(null, ok ? sub : null),
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
    },
  };
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}
