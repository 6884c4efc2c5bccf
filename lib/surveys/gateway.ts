// The smart-meter gateway: takes the meters' datagrams over UDP (or batches
// handed to accept()), keeps the good lines of each as a batch on disk, and
// only then answers the meter "Surveys arrived"; the forwarder sends the
// batches on to the cloud. Any number of meters may send, at any time. A
// meter that sends again because our answer was lost is not queued twice.
import dgram from 'node:dgram';
import net from 'node:net';
import { Clock } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import { batchBody, contentDigest, newBatchId, surveysOf } from './batch';
import { MAX_BODY_BYTES } from './frame';
import { Connect, Forwarder, ForwarderEvent, ForwarderState } from './forwarder';
import { surveyMetrics } from './metrics';
import { QueuedBatch, QueueFullError, SurveyQueue } from './queue';
import { BackoffOptions } from '../util/backoff';
import { describeProblems, LineProblem, NumberedSurvey } from './survey-line';

export const ARRIVED = 'Surveys arrived';
export const REFUSED = 'Surveys refused';
/** How long a forwarded batch is remembered, so a meter's late resend is not queued again. */
export const RESEND_WINDOW_MS = 10 * 60_000;

export interface Sender {
  ip: string;
  port?: number;
}

export type Acceptance =
  /** Kept on disk (or, `duplicate`, already kept or forwarded): answer "Surveys arrived". */
  | {
      status: 'kept';
      batch: QueuedBatch;
      surveys: NumberedSurvey[];
      duplicate: boolean;
      errors: LineProblem[];
    }
  /** No good line: nothing kept. */
  | { status: 'nothing'; errors: LineProblem[] };

export interface GatewayOptions {
  /** Where meters send; omitted: batches come only through accept(). */
  listen?: { host: string; port: number };
  cloud: Connect;
  queueDir: string;
  maxBatches: number;
  clock: Clock;
  logger: Logger;
  /** Labels the metrics. */
  name: string;
  confirmTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** A batch was kept (not called for duplicates). */
  onKept?: (batch: QueuedBatch, surveys: NumberedSurvey[]) => void;
  /** Lines of a datagram were refused (the good ones are kept); accept() returns a message's. */
  onBadLines?: (sender: Sender, errors: LineProblem[], text: string) => void;
  /** The forwarder's news, with the state after it. */
  onEvent?: (event: ForwarderEvent, state: ForwarderState) => void;
}

export class SurveyGateway {
  private socket?: dgram.Socket;
  private readonly recent = new Map<string, { batch: QueuedBatch; until: number }>();
  private readonly adding = new Map<string, Promise<QueuedBatch | undefined>>();
  private warnedFull = false;

  private readonly forwarder: Forwarder;

  private constructor(
    private readonly options: GatewayOptions,
    private readonly queue: SurveyQueue,
  ) {
    this.forwarder = new Forwarder({
      queue,
      connect: options.cloud,
      clock: options.clock,
      logger: options.logger,
      confirmTimeoutMs: options.confirmTimeoutMs,
      backoff: options.backoff,
      onEvent: (event) => this.forwarded(event),
    });
  }

  static async start(options: GatewayOptions): Promise<SurveyGateway> {
    const queue = await SurveyQueue.open({
      dir: options.queueDir,
      maxBatches: options.maxBatches,
      logger: options.logger,
    });
    const gateway = new SurveyGateway(options, queue);
    surveyMetrics.pending.set({ gateway: options.name }, queue.size);
    if (queue.size > 0)
      options.logger.info(`${queue.size} batches kept from before; forwarding them`);
    try {
      if (options.listen) await gateway.listen(options.listen.host, options.listen.port);
    } catch (err) {
      await queue.close();
      throw err;
    }
    gateway.forwarder.start();
    return gateway;
  }

  /** The UDP port meters send to, when listening. */
  get udpPort(): number | undefined {
    return this.socket?.address().port;
  }

  state(): ForwarderState {
    return this.forwarder.state();
  }

  /**
   * Keeps the good lines of `text` as one batch; resolves once it is on disk.
   * Rejects with QueueFullError when the gateway holds its maximum.
   */
  async accept(text: string, sender: Sender): Promise<Acceptance> {
    const { lines, surveys, errors } = surveysOf(text, sender.ip);
    if (errors.length > 0) surveyMetrics.badLines.inc({ node: this.options.name }, errors.length);
    if (lines.length === 0) return { status: 'nothing', errors };
    if (Buffer.byteLength(batchBody(lines)) > MAX_BODY_BYTES) {
      throw new Error(`a batch may hold ${MAX_BODY_BYTES} bytes of lines at most: split it`);
    }
    const digest = contentDigest(sender.ip, lines);
    const known =
      this.queue.findDigest(digest) ?? this.recentBatch(digest) ?? (await this.adding.get(digest));
    if (known) {
      surveyMetrics.gatewayBatches.inc({ gateway: this.options.name, stage: 'duplicate' });
      return { status: 'kept', batch: known, surveys, duplicate: true, errors };
    }
    const source = sender.port === undefined ? sender.ip : `${sender.ip}:${sender.port}`;
    const adding = this.queue.add({
      id: newBatchId(),
      receivedAt: this.options.clock.now(),
      lines,
      digest,
      source,
    });
    // A copy arriving while this one is being written waits for it instead.
    this.adding.set(
      digest,
      adding.catch(() => undefined),
    );
    let batch: QueuedBatch;
    try {
      batch = await adding;
    } finally {
      this.adding.delete(digest);
    }
    this.warnedFull = false;
    surveyMetrics.gatewayBatches.inc({ gateway: this.options.name, stage: 'arrived' });
    surveyMetrics.pending.set({ gateway: this.options.name }, this.queue.size);
    this.options.onKept?.(batch, surveys);
    this.forwarder.wake();
    return { status: 'kept', batch, surveys, duplicate: false, errors };
  }

  /** Stops listening and forwarding; pending batches stay on disk for the next start. */
  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    await this.forwarder.stop();
    await this.queue.close();
  }

  private listen(host: string, port: number): Promise<void> {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    this.socket = socket;
    socket.on('message', (data, remote) => this.onDatagram(socket, data, remote));
    return new Promise((resolve, reject) => {
      const failed = (err: Error) => {
        this.socket = undefined;
        socket.close();
        reject(err);
      };
      socket.once('error', failed);
      socket.bind(port, host, () => {
        socket.off('error', failed);
        socket.on('error', (err) =>
          this.options.logger.error(`survey gateway UDP: ${errorMessage(err)}`),
        );
        resolve();
      });
    });
  }

  private onDatagram(socket: dgram.Socket, data: Buffer, remote: dgram.RemoteInfo): void {
    const sender = { ip: remote.address, port: remote.port };
    const text = data.toString('utf8');
    this.accept(text, sender).then(
      (result) => {
        if (result.errors.length > 0) this.options.onBadLines?.(sender, result.errors, text);
        if (result.status === 'kept' || result.errors.length === 0)
          return this.reply(socket, ARRIVED, remote);
        this.reply(socket, `${REFUSED}: ${describeProblems(result.errors)}`, remote);
      },
      (err: unknown) => {
        // Full: no answer, so the meter sends again later, as to a gateway that is down.
        if (err instanceof QueueFullError) {
          if (!this.warnedFull)
            this.options.logger.warn(`${err.message}; meters get no answer meanwhile`);
          this.warnedFull = true;
          return;
        }
        this.options.logger.error(
          `cannot keep the surveys from ${remote.address}: ${errorMessage(err)}`,
        );
      },
    );
  }

  private reply(socket: dgram.Socket, text: string, remote: dgram.RemoteInfo): void {
    if (this.socket !== socket) return;
    const message = Buffer.from(text.slice(0, 1400));
    socket.send(message, remote.port, remote.address, (err) => {
      if (err)
        this.options.logger.debug(
          `answer to ${remote.address}:${remote.port}: ${errorMessage(err)}`,
        );
    });
  }

  private forwarded(event: ForwarderEvent): void {
    const gateway = this.options.name;
    if (event.event === 'forwarded' || event.event === 'refused') {
      surveyMetrics.gatewayBatches.inc({ gateway, stage: event.event });
      surveyMetrics.pending.set({ gateway }, this.queue.size);
      if (event.event === 'forwarded') {
        this.recent.set(event.batch.digest, {
          batch: event.batch,
          until: this.options.clock.now() + RESEND_WINDOW_MS,
        });
      }
    }
    this.options.onEvent?.(event, this.forwarder.state());
  }

  private recentBatch(digest: string): QueuedBatch | undefined {
    const now = this.options.clock.now();
    for (const [key, entry] of this.recent) {
      if (entry.until > now) break; // oldest first: the rest are newer
      this.recent.delete(key);
    }
    return this.recent.get(digest)?.batch;
  }
}
