// What happens to a frame from a logged-in device: checked (origin, customer),
// then delivered to a device of the same customer, to all of them for `*`,
// kept in the offline queue, stored (EVENT, ALARM), fanned out to subscribers,
// and handed to the flows. Frames to online devices are forwarded as received,
// byte for byte, without touching the store.
import type { DeviceDirectory } from '../registry/directory';
import type { Clock } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import { decodeBody, encode, Frame, FrameError } from './codec';
import {
  BROADCAST,
  ErrorCode,
  HANDSHAKE_TYPES,
  QUEUED_TYPES,
  ROUTED_TYPES,
  SERVER,
} from './constants';
import type { Connection } from './connection';
import type { DeviceLog, DeviceReport } from './device-log';
import { countDropped, countFrameIn, queueDepth } from './metrics';
import type { OfflineQueue } from './offline-queue';
import type { ResolvedOptions } from './options';
import { parseCondition, Subscriptions } from './subscriptions';

/** A frame from a device, as flows see it. */
export interface DeviceFrame extends Frame {
  customer: string;
}

/** A frame from the flows: origin SERVER unless given; `customer` is required for `*`. */
export interface OutboundFrame {
  origin?: string;
  destination: string;
  type: string;
  fields: string[];
  customer?: string;
}

export type SendResult = { status: 'delivered'; count: number } | { status: 'queued' };

export class SendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SendError';
  }
}

export interface RouterSink {
  frame(frame: DeviceFrame): void;
  report(kind: 'event' | 'alarm', report: DeviceReport): void;
  /** A queued frame from the flows expired undelivered. */
  expired(frame: Frame, customer: string): void;
  wantsFrames(): boolean;
}

const MAX_NAME_BYTES = 255;
/** A device's last sign of life is written at login and then at most this often: the
 *  write costs the store a row update, and outdated thresholds are minutes long. */
const MARK_SEEN_EVERY_MS = 30_000;

export class Router {
  readonly online = new Map<string, Connection>();
  private readonly byCustomer = new Map<string, Set<Connection>>();
  readonly subscriptions = new Subscriptions();
  /** Destinations with a queue insert in flight: MSG and WRITE for them queue behind it. */
  private readonly queueing = new Map<string, number>();

  constructor(
    private readonly options: ResolvedOptions,
    private readonly directory: DeviceDirectory,
    private readonly queue: OfflineQueue,
    private readonly log: DeviceLog,
    private readonly sink: RouterSink,
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {}

  register(conn: Connection): void {
    this.online.set(conn.id!, conn);
    let peers = this.byCustomer.get(conn.customerId!);
    if (!peers) this.byCustomer.set(conn.customerId!, (peers = new Set()));
    peers.add(conn);
  }

  /** Forgets a connection; false when it was not the device's current one. */
  unregister(conn: Connection): boolean {
    if (!conn.id || this.online.get(conn.id) !== conn) return false;
    this.online.delete(conn.id);
    const peers = this.byCustomer.get(conn.customerId!);
    peers?.delete(conn);
    if (peers?.size === 0) this.byCustomer.delete(conn.customerId!);
    this.subscriptions.removeAll(conn.customerId!, conn.id);
    return true;
  }

  devicesOnline(customer: string): string[] {
    return [...(this.byCustomer.get(customer) ?? [])].map((c) => c.id!);
  }

  /** Handles one frame (EOT included) from a logged-in device. */
  handle(conn: Connection, raw: Buffer): void | Promise<void> {
    let frame: Frame;
    try {
      frame = decodeBody(raw.subarray(0, raw.length - 1), this.options.separator);
    } catch (err) {
      return this.refuse(conn, 'BAD_FRAME', err instanceof FrameError ? err.message : 'bad frame');
    }
    countFrameIn(frame.type);
    const now = this.clock.now();
    if (now - conn.seenAt >= MARK_SEEN_EVERY_MS) {
      conn.seenAt = now;
      this.directory.markSeen(conn.id!, now).catch(() => undefined);
    }
    if (frame.origin !== conn.id)
      return this.refuse(conn, 'ORIGIN_MISMATCH', `origin must be ${conn.id}`);
    const type = frame.type;
    if (type === 'PING') {
      this.reply(conn, 'PONG', []);
      return;
    }
    if (HANDSHAKE_TYPES.has(type)) return this.refuse(conn, 'BAD_FRAME', `${type} after login`);
    if (type === 'EVENT' || type === 'ALARM' || type === 'SUB' || type === 'UNSUB') {
      if (frame.destination !== SERVER)
        return this.refuse(conn, 'BAD_FRAME', `${type} goes to ${SERVER}`);
      return this.toServer(conn, frame);
    }
    if (!ROUTED_TYPES.has(type) || frame.destination === SERVER) {
      this.toFlows(conn, frame);
      return;
    }
    return this.route(conn, frame, raw);
  }

  // ------------------------------------------------------------ device to device

  private route(conn: Connection, frame: Frame, raw: Buffer): void | Promise<void> {
    const customer = conn.customerId!;
    if (frame.destination === BROADCAST) {
      for (const peer of this.byCustomer.get(customer) ?? []) {
        if (peer !== conn) this.deliver(peer, raw, frame.type);
      }
      this.toFlows(conn, frame);
      return;
    }
    const target = this.online.get(frame.destination);
    if (target) {
      if (target.customerId !== customer) return this.forbidden(conn, frame);
      if (QUEUED_TYPES.has(frame.type) && this.queueing.has(frame.destination))
        return this.enqueue(conn, frame);
      this.deliver(target, raw, frame.type);
      this.toFlows(conn, frame);
      return;
    }
    return this.routeOffline(conn, frame, raw);
  }

  private async routeOffline(conn: Connection, frame: Frame, raw: Buffer): Promise<void> {
    let device;
    try {
      device = await this.directory.findDevice(frame.destination);
    } catch (err) {
      this.logger?.error(`EOT routing to ${frame.destination}: ${errorMessage(err)}`);
      return this.refuse(conn, 'OFFLINE', 'the registry cannot be reached', 'store_error');
    }
    if (!device) return this.refuse(conn, 'UNKNOWN_DESTINATION', `no device ${frame.destination}`);
    if (device.customerId !== conn.customerId) return this.forbidden(conn, frame);
    const target = this.online.get(frame.destination);
    if (target && !(QUEUED_TYPES.has(frame.type) && this.queueing.has(frame.destination))) {
      // It logged in while the registry answered.
      this.deliver(target, raw, frame.type);
      this.toFlows(conn, frame);
      return;
    }
    if (!QUEUED_TYPES.has(frame.type))
      return this.refuse(conn, 'OFFLINE', `${frame.destination} is offline`);
    return this.enqueue(conn, frame);
  }

  private async enqueue(conn: Connection, frame: Frame): Promise<void> {
    const destination = frame.destination;
    this.queueing.set(destination, (this.queueing.get(destination) ?? 0) + 1);
    try {
      const max = this.options.queueMaxPerDevice;
      if (max > 0 && (await this.queue.countFor(destination)) >= max)
        return this.refuse(conn, 'OFFLINE', `the queue of ${destination} is full`, 'queue_full');
      await this.queue.add(conn.customerId!, frame, this.clock.now(), this.options.queueTtlMs);
      queueDepth.inc();
      this.reply(conn, 'ACK', ['queued', destination]);
      this.toFlows(conn, frame);
    } catch (err) {
      this.logger?.error(`EOT queue for ${destination}: ${errorMessage(err)}`);
      this.refuse(conn, 'OFFLINE', `${destination} is offline and the queue failed`, 'store_error');
    } finally {
      this.queued(destination);
    }
  }

  private queued(destination: string): void {
    const left = (this.queueing.get(destination) ?? 1) - 1;
    if (left > 0) this.queueing.set(destination, left);
    else this.queueing.delete(destination);
    // The device may have logged in while the row was written.
    const target = this.online.get(destination);
    if (target) void this.drain(target);
  }

  /** Delivers what waits in the queue for a device that just logged in, then what arrived meanwhile. */
  async drain(conn: Connection): Promise<void> {
    if (conn.closed) return;
    if (conn.drainRunning) {
      conn.drainAgain = true;
      return;
    }
    conn.drainRunning = true;
    conn.draining = true;
    try {
      do {
        conn.drainAgain = false;
        for (;;) {
          const batch = await this.queue.next(conn.id!, this.clock.now());
          if (batch.length === 0 || conn.closed) break;
          let last: Promise<boolean> = Promise.resolve(true);
          for (const item of batch) {
            let bytes: Buffer;
            try {
              bytes = encode(item.frame, this.codec());
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
          await this.queue.remove(batch.map((b) => b.seq));
          queueDepth.dec(batch.length);
        }
      } while (conn.drainAgain && !conn.closed);
    } catch (err) {
      this.logger?.error(`EOT queue delivery to ${conn.id}: ${errorMessage(err)}`);
    } finally {
      conn.drainRunning = false;
      if (!conn.closed) conn.release();
    }
  }

  /** Reports and removes queued frames whose time to live ended. */
  async expire(): Promise<void> {
    const expired = await this.queue.expired(this.clock.now());
    for (const { frame, customerId } of expired) {
      countDropped('expired');
      const origin = this.online.get(frame.origin);
      if (origin && origin.customerId === customerId)
        this.reply(origin, 'ERROR', ['OFFLINE', `${frame.type} to ${frame.destination} expired`]);
      if (frame.origin === SERVER) this.sink.expired(frame, customerId);
    }
    await this.queue.remove(expired.map((e) => e.seq));
    queueDepth.set(await this.queue.depth());
  }

  // ------------------------------------------------------------ to the server

  private async toServer(conn: Connection, frame: Frame): Promise<void> {
    const customer = conn.customerId!;
    const [name, value = ''] = frame.fields;
    if (frame.type === 'SUB') {
      let condition;
      try {
        condition = parseCondition(value);
      } catch (err) {
        return this.refuse(conn, 'BAD_FRAME', errorMessage(err));
      }
      this.subscriptions.subscribe(customer, conn.id!, name, condition);
    } else if (frame.type === 'UNSUB') {
      this.subscriptions.unsubscribe(customer, conn.id!, name);
    } else {
      if (Buffer.byteLength(name) > MAX_NAME_BYTES)
        return this.refuse(conn, 'BAD_FRAME', `name longer than ${MAX_NAME_BYTES} bytes`);
      const kind = frame.type === 'EVENT' ? 'event' : 'alarm';
      try {
        const report = await this.log.record(kind, {
          deviceId: conn.id!,
          customerId: customer,
          name,
          value,
          at: this.clock.now(),
        });
        this.sink.report(kind, report);
      } catch (err) {
        countDropped('store_error');
        this.logger?.error(`EOT ${frame.type} of ${conn.id} not stored: ${errorMessage(err)}`);
      }
      if (kind === 'alarm') {
        for (const subscriber of this.subscriptions.alarmSubscribers(customer, name))
          this.forward(conn, subscriber, frame);
      }
    }
    this.toFlows(conn, frame);
  }

  private crossings(conn: Connection, frame: Frame): void {
    const [sensor, value] = frame.fields;
    const customer = conn.customerId!;
    for (const subscriber of this.subscriptions.crossings(customer, conn.id!, sensor, value)) {
      if (subscriber !== frame.destination) this.forward(conn, subscriber, frame);
    }
  }

  /** Sends a copy of a device's frame to one subscriber of its customer. */
  private forward(conn: Connection, subscriber: string, frame: Frame): void {
    const target = this.online.get(subscriber);
    if (!target || target.customerId !== conn.customerId) return;
    try {
      const bytes = encode({ ...frame, destination: subscriber }, this.codec());
      this.deliver(target, bytes, frame.type);
    } catch {
      countDropped('too_large');
    }
  }

  // ------------------------------------------------------------ from the flows

  async send(out: OutboundFrame): Promise<SendResult> {
    const frame: Frame = {
      origin: out.origin ?? SERVER,
      destination: out.destination,
      type: out.type,
      fields: out.fields ?? [],
    };
    let bytes: Buffer;
    try {
      bytes = encode(frame, this.codec());
    } catch (err) {
      throw new SendError(`not a valid frame: ${errorMessage(err)}`);
    }
    if (frame.destination === BROADCAST) {
      if (!out.customer) throw new SendError('a frame to * needs the customer');
      let count = 0;
      for (const peer of this.byCustomer.get(out.customer) ?? []) {
        if (peer.id === frame.origin) continue;
        this.deliver(peer, bytes, frame.type);
        count++;
      }
      return { status: 'delivered', count };
    }
    const target = this.online.get(frame.destination);
    if (target && (!QUEUED_TYPES.has(frame.type) || !this.queueing.has(frame.destination))) {
      if (out.customer && target.customerId !== out.customer)
        throw new SendError(`device ${frame.destination} is not of customer ${out.customer}`);
      this.deliver(target, bytes, frame.type);
      return { status: 'delivered', count: 1 };
    }
    const device = await this.directory.findDevice(frame.destination);
    if (!device) throw new SendError(`no device ${frame.destination}`);
    if (out.customer && device.customerId !== out.customer)
      throw new SendError(`device ${frame.destination} is not of customer ${out.customer}`);
    if (!QUEUED_TYPES.has(frame.type))
      throw new SendError(`device ${frame.destination} is offline`);
    this.queueing.set(frame.destination, (this.queueing.get(frame.destination) ?? 0) + 1);
    try {
      await this.queue.add(device.customerId, frame, this.clock.now(), this.options.queueTtlMs);
      queueDepth.inc();
    } finally {
      this.queued(frame.destination);
    }
    return { status: 'queued' };
  }

  // ------------------------------------------------------------ helpers

  private deliver(target: Connection, raw: Buffer, type: string): void {
    if (target.draining) target.hold(raw, type);
    else target.write(raw, type);
  }

  /** A frame was accepted: subscribers of a crossed condition and the flows get it. */
  private toFlows(conn: Connection, frame: Frame): void {
    if (frame.type === 'READING') this.crossings(conn, frame);
    if (this.sink.wantsFrames()) this.sink.frame({ ...frame, customer: conn.customerId! });
  }

  private forbidden(conn: Connection, frame: Frame): void {
    this.refuse(conn, 'FORBIDDEN', `${frame.destination} is not of your customer`);
  }

  /** Answers a frame with an ERROR and counts it as dropped. */
  refuse(conn: Connection, code: ErrorCode, text: string, reason?: string): void {
    countDropped(reason ?? code.toLowerCase());
    this.reply(conn, 'ERROR', [code, text]);
  }

  private reply(conn: Connection, type: string, fields: string[]): void {
    const frame = { origin: SERVER, destination: conn.id ?? BROADCAST, type, fields };
    let bytes: Buffer;
    try {
      bytes = encode(frame, this.codec());
    } catch {
      // A text quoting the device's input may be too long: the code says enough.
      bytes = encode({ ...frame, fields: fields.slice(0, 1) }, this.codec());
    }
    conn.write(bytes, type);
  }

  private codec() {
    return { separator: this.options.separator, maxFrameBytes: this.options.maxFrameBytes };
  }
}
