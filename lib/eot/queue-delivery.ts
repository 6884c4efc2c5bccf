// The offline queue as the router uses it: MSG and WRITE kept for a device
// that is offline (acknowledged only once the row is committed), delivered
// in order when it logs in (a row deleted only once written to its socket),
// and reported when their time to live ends, by the one instance that takes
// the expired row.
import type { Clock } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import { CodecOptions, encode, Frame } from './codec';
import { SERVER } from './constants';
import type { EotCluster } from './cluster-link';
import type { Connection } from './connection';
import { countDropped, queueDepth } from './metrics';
import type { OfflineQueue } from './offline-queue';
import type { ResolvedOptions } from './options';

/** What became of a frame given to the queue. */
export type Kept = { ok: true } | { ok: false; text: string; reason: string };

export interface QueueDeliveryDeps {
  options: ResolvedOptions;
  queue: OfflineQueue;
  online: ReadonlyMap<string, Connection>;
  clock: Clock;
  codec(): CodecOptions;
  reply(conn: Connection, type: string, fields: string[]): void;
  /** A queued frame from the flows expired undelivered. */
  expired(frame: Frame, customer: string): void;
  cluster(): EotCluster | undefined;
  logger?: Logger;
}

export class QueueDelivery {
  /** Destinations with a queue insert in flight: MSG and WRITE for them queue behind it. */
  private readonly queueing = new Map<string, number>();

  constructor(private readonly deps: QueueDeliveryDeps) {}

  isQueueing(destination: string): boolean {
    return this.queueing.has(destination);
  }

  /** Keeps a frame for its offline destination (committed when this resolves ok). */
  async keep(frame: Frame, customer: string): Promise<Kept> {
    const { options, queue, clock } = this.deps;
    const destination = frame.destination;
    this.queueing.set(destination, (this.queueing.get(destination) ?? 0) + 1);
    try {
      const max = options.queueMaxPerDevice;
      if (max > 0 && (await queue.countFor(destination)) >= max)
        return { ok: false, text: `the queue of ${destination} is full`, reason: 'queue_full' };
      await queue.add(customer, frame, clock.now(), options.queueTtlMs);
      queueDepth.inc();
      return { ok: true };
    } catch (err) {
      this.deps.logger?.error(`EOT queue for ${destination}: ${errorMessage(err)}`);
      return {
        ok: false,
        text: `${destination} is offline and the queue failed`,
        reason: 'store_error',
      };
    } finally {
      this.queued(destination);
    }
  }

  private queued(destination: string): void {
    const left = (this.queueing.get(destination) ?? 1) - 1;
    if (left > 0) this.queueing.set(destination, left);
    else this.queueing.delete(destination);
    // The device may have logged in while the row was written: here, or elsewhere.
    const target = this.deps.online.get(destination);
    if (target) void this.drain(target);
    else
      this.deps
        .cluster()
        ?.queuedFor(destination)
        .catch((err: unknown) =>
          this.deps.logger?.warn(`EOT queue for ${destination}: ${errorMessage(err)}`),
        );
  }

  /** Delivers what waits in the queue for a device that just logged in, then what arrived meanwhile. */
  async drain(conn: Connection): Promise<void> {
    if (conn.closed) return;
    if (conn.drainRunning) {
      conn.drainAgain = true;
      return;
    }
    const { queue, clock } = this.deps;
    conn.drainRunning = true;
    conn.draining = true;
    try {
      do {
        conn.drainAgain = false;
        for (;;) {
          const batch = await queue.next(conn.id!, clock.now());
          if (batch.length === 0 || conn.closed) break;
          let last: Promise<boolean> = Promise.resolve(true);
          for (const item of batch) {
            let bytes: Buffer;
            try {
              bytes = encode(item.frame, this.deps.codec());
            } catch {
              countDropped('bad_frame'); // kept under another separator or size limit
              continue;
            }
            // A long queue goes out as fast as the device reads it, not faster.
            if (!(await conn.whenWritable())) return;
            last = conn.writeAndWait(bytes, item.frame.type);
          }
          // Removed only once written: a connection lost meanwhile gets them again.
          if (!(await last)) return;
          await queue.remove(batch.map((b) => b.seq));
          queueDepth.dec(batch.length);
        }
      } while (conn.drainAgain && !conn.closed);
    } catch (err) {
      this.deps.logger?.error(`EOT queue delivery to ${conn.id}: ${errorMessage(err)}`);
    } finally {
      conn.drainRunning = false;
      if (!conn.closed) conn.release();
    }
  }

  /** Reports and removes queued frames whose time to live ended. Each is
   *  reported once: by the instance whose delete took its row. */
  async expire(): Promise<void> {
    const { queue, clock, online } = this.deps;
    const expired = await queue.expired(clock.now());
    const mine = await queue.claim(expired.map((e) => e.seq));
    const cluster = this.deps.cluster();
    for (const { frame, customerId, seq } of expired) {
      if (!mine.has(seq)) continue;
      countDropped('expired');
      const text = `${frame.type} to ${frame.destination} expired`;
      const origin = online.get(frame.origin);
      if (origin && origin.customerId === customerId)
        this.deps.reply(origin, 'ERROR', ['OFFLINE', text]);
      else if (!origin && frame.origin !== SERVER)
        await cluster?.replyTo(frame.origin, 'ERROR', ['OFFLINE', text]);
      if (frame.origin === SERVER) {
        this.deps.expired(frame, customerId);
        cluster?.relay('expired', frame, customerId);
      }
    }
    queueDepth.set(await queue.depth());
  }
}
