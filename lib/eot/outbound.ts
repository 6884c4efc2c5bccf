// Frames the flows send to devices: to one device (here, on another instance,
// or kept in the offline queue for MSG and WRITE) or to `*` of a customer.
// Unlike a device's frame, a refusal is a SendError for the flow, not an ERROR frame.
import type { DeviceDirectory } from '../registry/directory';
import { errorMessage } from '../util/log';
import { CodecOptions, encode, Frame } from './codec';
import { BROADCAST, QUEUED_TYPES, SERVER } from './constants';
import type { EotCluster } from './cluster-link';
import type { Connection } from './connection';
import type { QueueDelivery } from './queue-delivery';

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

export interface OutboundDeps {
  online: ReadonlyMap<string, Connection>;
  directory: DeviceDirectory;
  delivery: Pick<QueueDelivery, 'isQueueing' | 'keep'>;
  /** The logged-in devices of a customer here. */
  peersOf(customer: string): ReadonlySet<Connection>;
  deliver(target: Connection, raw: Buffer, type: string): void;
  codec(): CodecOptions;
  cluster(): EotCluster | undefined;
}

export class Outbound {
  constructor(private readonly deps: OutboundDeps) {}

  /** Sends a frame from the flows; throws a SendError for an unknown device,
   *  one of another customer, or one offline for a type that is not queued. */
  async send(out: OutboundFrame): Promise<SendResult> {
    const { online, delivery } = this.deps;
    const frame: Frame = {
      origin: out.origin ?? SERVER,
      destination: out.destination,
      type: out.type,
      fields: out.fields ?? [],
    };
    let bytes: Buffer;
    try {
      bytes = encode(frame, this.deps.codec());
    } catch (err) {
      throw new SendError(`not a valid frame: ${errorMessage(err)}`);
    }
    if (frame.destination === BROADCAST) {
      if (!out.customer) throw new SendError('a frame to * needs the customer');
      let count = 0;
      for (const peer of this.deps.peersOf(out.customer)) {
        if (peer.id === frame.origin) continue;
        this.deps.deliver(peer, bytes, frame.type);
        count++;
      }
      this.deps.cluster()?.broadcast(out.customer, frame.origin, bytes, frame.type);
      return { status: 'delivered', count };
    }
    const target = online.get(frame.destination);
    if (target && (!QUEUED_TYPES.has(frame.type) || !delivery.isQueueing(frame.destination))) {
      if (out.customer && target.customerId !== out.customer)
        throw new SendError(`device ${frame.destination} is not of customer ${out.customer}`);
      this.deps.deliver(target, bytes, frame.type);
      return { status: 'delivered', count: 1 };
    }
    const where = target ? null : await this.deps.cluster()?.locate(frame.destination);
    if (where) {
      if (out.customer && where.customerId !== out.customer)
        throw new SendError(`device ${frame.destination} is not of customer ${out.customer}`);
      const to = { to: frame.destination, from: frame.origin, customer: where.customerId };
      if (!this.deps.cluster()!.forward(where, { ...to, type: frame.type, raw: bytes }))
        throw new SendError(`device ${frame.destination} cannot be reached now`);
      return { status: 'delivered', count: 1 };
    }
    const device = await this.deps.directory.findDevice(frame.destination);
    if (!device) throw new SendError(`no device ${frame.destination}`);
    if (out.customer && device.customerId !== out.customer)
      throw new SendError(`device ${frame.destination} is not of customer ${out.customer}`);
    if (!QUEUED_TYPES.has(frame.type))
      throw new SendError(`device ${frame.destination} is offline`);
    const kept = await delivery.keep(frame, device.customerId);
    if (!kept.ok) throw new SendError(kept.text);
    return { status: 'queued' };
  }
}
