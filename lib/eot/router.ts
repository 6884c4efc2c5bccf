// What happens to a frame from a logged-in device: checked (origin, customer),
// then delivered to a device of the same customer, to all of them for `*`,
// kept in the offline queue, stored (EVENT, ALARM), fanned out to subscribers
// (fan-out.ts), and handed to the flows. Frames to online devices are forwarded
// as received, byte for byte, without touching the store. With several
// instances (cluster-link.ts), a device logged in elsewhere is reached over the
// bus, after the customer check made here. Frames from the flows: outbound.ts.
import type { DeviceDirectory } from '../registry/directory';
import type { Clock } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import { decodeBody, encodeFromServer, Frame, FrameError } from './codec';
import {
  BROADCAST,
  ErrorCode,
  HANDSHAKE_TYPES,
  QUEUED_TYPES,
  ROUTED_TYPES,
  SERVER,
} from './constants';
import type { EotCluster, LocalSide, RemoteDevice } from './cluster-link';
import type { Connection } from './connection';
import type { DeviceLog, DeviceReport } from './device-log';
import { FanOut } from './fan-out';
import { countDropped, countFrameIn } from './metrics';
import type { OfflineQueue } from './offline-queue';
import type { ResolvedOptions } from './options';
import { Outbound, OutboundFrame, SendResult } from './outbound';
import { QueueDelivery } from './queue-delivery';
import { remoteSide } from './remote-side';
import { parseCondition } from './subscriptions';

/** A frame from a device, as flows see it. */
export interface DeviceFrame extends Frame {
  customer: string;
}

export interface RouterSink {
  frame(frame: DeviceFrame): void;
  report(kind: 'event' | 'alarm', report: DeviceReport): void;
  /** A queued frame from the flows expired undelivered. */
  expired(frame: Frame, customer: string): void;
  /** An ACK or an expired order relayed by another instance (for actuator commands). */
  peer(kind: 'frame' | 'expired', frame: Frame, customer: string): void;
  wantsFrames(): boolean;
}

const MAX_NAME_BYTES = 255;
const NONE: ReadonlySet<Connection> = new Set();
/** A device's last sign of life is written at login and then at most this often: the
 *  write costs the store a row update, and outdated thresholds are minutes long. */
const MARK_SEEN_EVERY_MS = 30_000;

export class Router {
  readonly online = new Map<string, Connection>();
  private readonly byCustomer = new Map<string, Set<Connection>>();
  readonly fanOut: FanOut;
  private readonly delivery: QueueDelivery;
  private readonly outbound: Outbound;
  /** Set when this server is one of several instances. */
  cluster?: EotCluster;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly directory: DeviceDirectory,
    queue: OfflineQueue,
    private readonly log: DeviceLog,
    private readonly sink: RouterSink,
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {
    this.delivery = new QueueDelivery({
      options,
      queue,
      online: this.online,
      clock,
      codec: () => this.codec(),
      reply: (conn, type, fields) => this.reply(conn, type, fields),
      expired: (frame, customer) => sink.expired(frame, customer),
      cluster: () => this.cluster,
      logger,
    });
    this.fanOut = new FanOut({
      online: this.online,
      deliver: (target, raw, type) => this.deliver(target, raw, type),
      codec: () => this.codec(),
      cluster: () => this.cluster,
    });
    this.outbound = new Outbound({
      online: this.online,
      directory,
      delivery: this.delivery,
      peersOf: (customer) => this.peersOf(customer),
      deliver: (target, raw, type) => this.deliver(target, raw, type),
      codec: () => this.codec(),
      cluster: () => this.cluster,
    });
  }

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
    this.fanOut.forget(conn);
    return true;
  }

  devicesOnline(customer: string): string[] {
    return [...(this.byCustomer.get(customer) ?? [])].map((c) => c.id!);
  }

  /** The logged-in devices of a customer here. */
  peersOf(customer: string): ReadonlySet<Connection> {
    return this.byCustomer.get(customer) ?? NONE;
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
      this.cluster?.broadcast(customer, conn.id!, raw, frame.type);
      this.toFlows(conn, frame);
      return;
    }
    const target = this.online.get(frame.destination);
    if (target) {
      if (target.customerId !== customer) return this.forbidden(conn, frame);
      if (QUEUED_TYPES.has(frame.type) && this.delivery.isQueueing(frame.destination))
        return this.enqueue(conn, frame);
      this.deliver(target, raw, frame.type);
      this.toFlows(conn, frame);
      return;
    }
    if (!this.cluster) return this.routeOffline(conn, frame, raw);
    let where;
    try {
      where = this.cluster.locate(frame.destination);
    } catch (err) {
      return this.lookupFailed(conn, frame, err);
    }
    if (where instanceof Promise)
      return where.then(
        (w) => this.routeRemote(conn, frame, raw, w),
        (err: unknown) => this.lookupFailed(conn, frame, err),
      );
    return this.routeRemote(conn, frame, raw, where);
  }

  /** To a device on another instance, when it is on one; else as offline. */
  private routeRemote(
    conn: Connection,
    frame: Frame,
    raw: Buffer,
    where: RemoteDevice | null,
  ): void | Promise<void> {
    if (!where || this.online.has(frame.destination)) return this.routeOffline(conn, frame, raw);
    if (where.customerId !== conn.customerId) return this.forbidden(conn, frame);
    const sent = this.cluster!.forward(where, {
      to: frame.destination,
      from: conn.id!,
      customer: conn.customerId!,
      type: frame.type,
      raw,
    });
    if (!sent)
      return this.refuse(conn, 'OFFLINE', `${frame.destination} cannot be reached now`, 'bus_full');
    this.toFlows(conn, frame);
  }

  private lookupFailed(conn: Connection, frame: Frame, err: unknown): void {
    this.logger?.error(`EOT routing to ${frame.destination}: ${errorMessage(err)}`);
    this.refuse(conn, 'OFFLINE', 'the registry cannot be reached', 'store_error');
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
    if (target && !(QUEUED_TYPES.has(frame.type) && this.delivery.isQueueing(frame.destination))) {
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
    const kept = await this.delivery.keep(frame, conn.customerId!);
    if (!kept.ok) return this.refuse(conn, 'OFFLINE', kept.text, kept.reason);
    this.reply(conn, 'ACK', ['queued', frame.destination]);
    this.toFlows(conn, frame);
  }

  /** Delivers what waits in the queue for a device that just logged in. */
  drain(conn: Connection): Promise<void> {
    return this.delivery.drain(conn);
  }

  /** Reports and removes queued frames whose time to live ended. */
  expire(): Promise<void> {
    return this.delivery.expire();
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
      this.fanOut.subscribe(conn, name, condition);
    } else if (frame.type === 'UNSUB') {
      this.fanOut.unsubscribe(conn, name);
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
        this.fanOut.alarm(customer, frame);
        this.cluster?.alarm(customer, frame);
      }
    }
    this.toFlows(conn, frame);
  }

  // ------------------------------------------------------------ from the flows

  /** A frame from the flows (outbound.ts). */
  send(out: OutboundFrame): Promise<SendResult> {
    return this.outbound.send(out);
  }

  /** This router as the cluster link sees it (remote-side.ts). */
  localSide(): LocalSide {
    return remoteSide(this, {
      options: this.options,
      directory: this.directory,
      keep: (frame, customer) => this.delivery.keep(frame, customer),
      peerEvent: (kind, frame, customer) => this.sink.peer(kind, frame, customer),
    });
  }

  // ------------------------------------------------------------ helpers

  deliver(target: Connection, raw: Buffer, type: string): void {
    if (target.draining) target.hold(raw, type);
    else target.write(raw, type);
  }

  /** A frame was accepted: subscribers of a crossed condition and the flows get it. */
  private toFlows(conn: Connection, frame: Frame): void {
    const customer = conn.customerId!;
    if (frame.type === 'READING') {
      this.fanOut.crossings(customer, frame);
      this.cluster?.reading(customer, frame);
    } else if (frame.type === 'ACK' && frame.destination === SERVER) {
      // The actuator command waiting for it may live on another instance.
      this.cluster?.relay('frame', frame, customer);
    }
    if (this.sink.wantsFrames()) this.sink.frame({ ...frame, customer });
  }

  private forbidden(conn: Connection, frame: Frame): void {
    this.refuse(conn, 'FORBIDDEN', `${frame.destination} is not of your customer`);
  }

  /** Answers a frame with an ERROR and counts it as dropped. */
  refuse(conn: Connection, code: ErrorCode, text: string, reason?: string): void {
    countDropped(reason ?? code.toLowerCase());
    this.reply(conn, 'ERROR', [code, text]);
  }

  reply(conn: Connection, type: string, fields: string[]): void {
    conn.write(encodeFromServer(conn.id ?? BROADCAST, type, fields, this.codec()), type);
  }

  codec() {
    return { separator: this.options.separator, maxFrameBytes: this.options.maxFrameBytes };
  }
}
