// The instances' only way to talk to each other: the MQTT broker. Each
// instance subscribes to its own topic `$sensflow/bus/<id>` (QoS 1, a
// persistent session) and publishes to the others' topics; link.ts makes each
// pair's traffic reliable and ordered over it. `$` topics are never matched by
// `#` or `+` at the first level, so flows subscribed to `#` do not see this
// traffic, and devices have no ACL for them: only the service login, with an
// explicit `$sensflow/#` ACL on Mosquitto, may use them.
import mqtt, { MqttClient } from 'mqtt';
import { redactUrl } from '../config/parse';
import type { Clock } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import { Endpoint, Envelope, Streams } from './link';
import { clusterMetrics } from './metrics';

export const BUS_PREFIX = '$sensflow/bus/';

export const busTopic = (instanceId: string) => `${BUS_PREFIX}${instanceId}`;

export interface BusOptions {
  /** The broker, without login. */
  url: string;
  username?: string;
  password?: string;
  self: Endpoint;
  clock: Clock;
  logger: Logger;
  retryMs?: number;
  /** How long start() waits for the broker to take and echo a probe. Default 10 s. */
  startTimeoutMs?: number;
}

/** The broker is there but does not let the service login use the bus topics. */
export class BusRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BusRefusedError';
  }
}

export interface ChannelHandler {
  message(from: string, body: unknown): void;
  /** A message that was sent to a peer lost before it acknowledged it. */
  undelivered?(peer: string, body: unknown): void;
}

export class ClusterBus {
  private readonly client: MqttClient;
  private readonly streams: Streams;
  private readonly handlers = new Map<string, ChannelHandler>();
  private probe?: { nonce: string; resolve: () => void };
  private subscribed?: Promise<void>;

  constructor(private readonly options: BusOptions) {
    const self = options.self;
    this.streams = new Streams({
      self,
      clock: options.clock,
      retryMs: options.retryMs,
      publish: (peer, json) => this.publish(busTopic(peer), json),
      deliver: (from, channel, body) => this.deliver(from, channel, body),
      onResend: (n) => clusterMetrics.busResends.inc(n),
      onCount: (direction, n) => clusterMetrics.busMessages.inc({ direction }, n),
    });
    this.client = mqtt.connect(options.url, {
      username: options.username,
      password: options.password,
      // One session per instance id: messages published while we reconnect wait for us.
      clientId: `sensflow-bus-${self.id}`,
      clean: false,
      keepalive: 10,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      queueQoSZero: false,
    });
    this.client.on('connect', () => {
      // Frames between instances are small and latency matters: no Nagle delay.
      (this.client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      clusterMetrics.busConnected.set(1);
      // What the broker lost while it restarted goes again, in order.
      this.streams.resendAll();
    });
    this.client.on('close', () => clusterMetrics.busConnected.set(0));
    this.client.on('error', (err) =>
      options.logger.debug(`cluster bus ${redactUrl(options.url)}: ${errorMessage(err)}`),
    );
    this.client.on('message', (_topic, payload) => this.onPayload(payload));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Resolves once the broker accepted our subscription and echoed a probe
   *  on our own topic: the service login may use `$sensflow/#`. */
  async start(): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? 10_000;
    const topic = busTopic(this.options.self.id);
    const refused =
      `the broker does not let Sensflow's service login use ${topic}: ` +
      `give it publishClientSend and subscribePattern ACLs on $sensflow/# (docs/scale-out.md)`;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            this.client.connected
              ? new BusRefusedError(refused)
              : new Error('the broker cannot be reached'),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.subscribe(topic, refused), deadline]);
      const nonce = Math.random().toString(36).slice(2);
      const echoed = new Promise<void>((resolve) => (this.probe = { nonce, resolve }));
      const self = this.options.self;
      this.client.publish(topic, JSON.stringify({ f: self.id, ft: self.token, p: nonce }), {
        qos: 1,
      });
      await Promise.race([echoed, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `body` on `channel` to `peer`'s run `token`; false when it cannot be queued. */
  send(peer: string, token: string, channel: string, body: unknown): boolean {
    return this.streams.send(peer, token, channel, body);
  }

  /** Messages to `peer` not yet acknowledged or still queued. */
  pending(peer: string): number {
    return this.streams.pending(peer);
  }

  handle(channel: string, handler: ChannelHandler): () => void {
    this.handlers.set(channel, handler);
    return () => {
      if (this.handlers.get(channel) === handler) this.handlers.delete(channel);
    };
  }

  /** A peer's run ended: its stream is given up and what it never
   *  acknowledged goes back to each channel's handler. */
  lost(peer: string, token: string): void {
    for (const [channel, body] of this.streams.abort(peer, token)) {
      try {
        this.handlers.get(channel)?.undelivered?.(peer, body);
      } catch (err) {
        this.options.logger.warn(`cluster bus ${channel}: ${errorMessage(err)}`);
      }
    }
  }

  async close(): Promise<void> {
    this.streams.close();
    await this.client.endAsync(true);
  }

  // ---------------------------------------------------------------- plumbing

  private subscribe(topic: string, refused: string): Promise<void> {
    this.subscribed ??= new Promise<void>((resolve, reject) => {
      const attempt = () =>
        this.client.subscribe(topic, { qos: 1 }, (err, granted) => {
          // mqtt.js reports a refused filter (SUBACK 0x80) as an error.
          if (err)
            return reject(/Subscribe error/.test(String(err)) ? new BusRefusedError(refused) : err);
          if (granted?.some((g) => g.qos === 128)) return reject(new BusRefusedError(refused));
          resolve();
        });
      if (this.client.connected) attempt();
      else this.client.once('connect', attempt);
    });
    return this.subscribed;
  }

  private publish(topic: string, json: string): boolean {
    if (!this.client.connected) return false;
    this.client.publish(topic, json, { qos: 1 });
    return true;
  }

  private onPayload(payload: Buffer): void {
    let env: Envelope & { p?: string };
    try {
      env = JSON.parse(payload.toString('utf8')) as Envelope & { p?: string };
    } catch {
      this.options.logger.warn('cluster bus: a message that is not JSON, ignored');
      return;
    }
    if (env.p !== undefined) {
      if (env.f === this.options.self.id && env.p === this.probe?.nonce) this.probe.resolve();
      return;
    }
    this.streams.receive(env);
  }

  private deliver(from: string, channel: string, body: unknown): void {
    const handler = this.handlers.get(channel);
    if (!handler) return;
    try {
      handler.message(from, body);
    } catch (err) {
      this.options.logger.warn(`cluster bus ${channel} from ${from}: ${errorMessage(err)}`);
    }
  }
}
