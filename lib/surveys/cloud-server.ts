// The cloud's TCP endpoint for smart-meter gateways: takes batch frames, hands
// each new batch to `onBatch`, remembers its id, then confirms it with
// "Surveys received <id>". A batch sent again (its confirmation was lost) is
// confirmed without being handed over twice. The sockets only feed framers.
import net from 'node:net';
import { errorMessage, Logger } from '../util/log';
import { bodyLines } from './batch';
import { encode, Frame, Framer } from './frame';
import { surveyMetrics } from './metrics';
import { SeenIds } from './seen-ids';

export interface ReceivedBatch {
  id: string;
  /** When the gateway received it (epoch ms). */
  receivedAt: number;
  lines: string[];
  /** The gateway's address, `ip:port`. */
  gateway: string;
}

export interface CloudServerOptions {
  host: string;
  port: number;
  seen: SeenIds;
  /** Takes a new batch; a rejection leaves it unconfirmed (the gateway sends it again). */
  onBatch: (batch: ReceivedBatch) => void | Promise<void>;
  logger: Logger;
  /** Labels the metrics. */
  name: string;
  /** Connections at once; default 64. */
  maxConnections?: number;
  /** A connection silent this long is closed; default 5 min. */
  idleTimeoutMs?: number;
}

export interface CloudServerStats {
  connections: number;
  batches: number;
  duplicates: number;
}

export class SurveyCloudServer {
  private readonly sockets = new Set<net.Socket>();
  private readonly inProgress = new Map<string, Promise<void>>();
  private readonly counts = { batches: 0, duplicates: 0 };

  private constructor(
    private readonly server: net.Server,
    private readonly options: CloudServerOptions,
  ) {}

  static listen(options: CloudServerOptions): Promise<SurveyCloudServer> {
    const server = net.createServer();
    const cloud = new SurveyCloudServer(server, options);
    server.maxConnections = options.maxConnections ?? 64;
    server.on('connection', (socket) => cloud.serve(socket));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        server.on('error', (err) => options.logger.error(`survey cloud: ${errorMessage(err)}`));
        resolve(cloud);
      });
    });
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get stats(): CloudServerStats {
    return { connections: this.sockets.size, ...this.counts };
  }

  /** Stops listening, hangs up, and waits for batches being taken. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    await Promise.allSettled([...this.inProgress.values()]);
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(this.options.idleTimeoutMs ?? 5 * 60_000, () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const gateway = `${socket.remoteAddress}:${socket.remotePort}`;
    const framer = new Framer();
    // Frames of one connection are answered in order.
    let chain = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = framer.push(chunk);
      } catch (err) {
        return hangUp(socket, errorMessage(err));
      }
      for (const frame of frames) {
        chain = chain.then(() => this.answer(socket, frame, gateway));
      }
    });
  }

  private async answer(socket: net.Socket, frame: Frame, gateway: string): Promise<void> {
    if (socket.destroyed) return;
    if (frame.kind !== 'batch')
      return hangUp(socket, `a gateway sends BATCH frames, not ${frame.kind}`);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(frame.body);
    } catch {
      socket.write(encode({ kind: 'refused', id: frame.id, reason: 'the body is not UTF-8 text' }));
      return;
    }
    try {
      await this.take({
        id: frame.id,
        receivedAt: frame.receivedAt,
        lines: bodyLines(text),
        gateway,
      });
    } catch (err) {
      return hangUp(socket, `batch ${frame.id} not taken: ${errorMessage(err)}`);
    }
    if (!socket.destroyed) socket.write(encode({ kind: 'received', id: frame.id }));
  }

  /** Hands a batch over once, however often and on however many connections it comes. */
  private async take(batch: ReceivedBatch): Promise<void> {
    const { seen } = this.options;
    const under = this.inProgress.get(batch.id);
    if (under) return under;
    if (seen.has(batch.id)) {
      this.counts.duplicates += 1;
      surveyMetrics.cloudBatches.inc({ cloud: this.options.name, result: 'duplicate' });
      return;
    }
    // Handed over before it is remembered: a crash in between means the
    // gateway sends it again and it is taken twice, never that it is lost.
    const taking = (async () => {
      await this.options.onBatch(batch);
      await seen.add(batch.id);
      this.counts.batches += 1;
      surveyMetrics.cloudBatches.inc({ cloud: this.options.name, result: 'taken' });
    })();
    this.inProgress.set(batch.id, taking);
    try {
      await taking;
    } finally {
      this.inProgress.delete(batch.id);
    }
  }
}

function hangUp(socket: net.Socket, reason: string): void {
  if (socket.destroyed) return;
  socket.end(encode({ kind: 'error', reason }));
  // A peer that never closes its side is cut off shortly.
  setTimeout(() => socket.destroy(), 1000).unref();
}
