// Orders over EOT (eot-protocol.md): a `WRITE|<actuator>|<value>` frame from
// SERVER to one device, confirmed by that device's `ACK|<actuator>|<detail>`.
// The EOT server keeps orders for an offline device in its own queue (with a
// time to live), so an order it has queued is not queued again by a retry.
import type { DeviceFrame, OutboundFrame, SendResult } from '../eot/server';
import { SendError } from '../eot/server';
import type { Frame } from '../eot/codec';
import { CommandTransport, OrderRefused, OutgoingOrder } from './transport';
import type { CommandTarget, EotTarget, Incoming } from './types';

type FrameEvent = 'frame' | 'peer-frame';
type ExpiredEvent = 'expired' | 'peer-expired';

/** What the transport needs of the EOT server. ACKs and expired orders come
 *  from this instance's devices ('frame', 'expired') and, with several
 *  instances, from the others' ('peer-frame', 'peer-expired'). */
export interface EotLink {
  send(frame: OutboundFrame): Promise<SendResult>;
  /** Whether the same frame already waits in the offline queue. */
  isQueued?(frame: OutboundFrame): Promise<boolean>;
  on(event: FrameEvent, listener: (frame: DeviceFrame) => void): unknown;
  on(event: ExpiredEvent, listener: (info: { frame: Frame; customer: string }) => void): unknown;
  off(event: FrameEvent, listener: (frame: DeviceFrame) => void): unknown;
  off(event: ExpiredEvent, listener: (info: { frame: Frame; customer: string }) => void): unknown;
}

export class EotCommandTransport implements CommandTransport {
  /** Commands whose WRITE waits in the server's offline queue → their device. */
  private readonly queued = new Map<string, string>();

  constructor(private readonly server: EotLink) {}

  reaches(target: CommandTarget): boolean {
    return target.transport === 'eot';
  }

  /** Always: the server queues orders for an offline device itself. */
  isReady(): boolean {
    return true;
  }

  onReady(): () => void {
    return () => undefined;
  }

  async send(order: OutgoingOrder): Promise<void> {
    const target = eotOnly(order.target);
    if (this.queued.has(order.commandId)) return; // still waiting for the device
    const frame = {
      destination: target.deviceId,
      type: 'WRITE',
      fields: [target.actuator, String(order.order)],
    };
    // Queued by an instance that was lost, whose command this one took over:
    // the store still holds it, and it must not wait there twice.
    if (await this.server.isQueued?.(frame)) {
      this.queued.set(order.commandId, target.deviceId);
      return;
    }
    let result: SendResult;
    try {
      result = await this.server.send(frame);
    } catch (err) {
      // Unknown device, another customer, a bad field: sending again won't help.
      if (err instanceof SendError) throw new OrderRefused(err.message);
      throw err;
    }
    if (result.status === 'queued') {
      this.queued.set(order.commandId, target.deviceId);
      // Bounded: the oldest entries go first (insertion order).
      if (this.queued.size > 10_000) this.queued.delete(this.queued.keys().next().value!);
    }
  }

  async listen(target: CommandTarget, onMessage: (message: Incoming) => void): Promise<() => void> {
    const eot = eotOnly(target);
    const onFrame = (frame: DeviceFrame) => {
      if (frame.origin !== eot.deviceId || frame.type !== 'ACK') return;
      const [ref, detail = ''] = frame.fields;
      if (ref !== eot.actuator) return;
      this.forget(eot.deviceId);
      onMessage({ target, payload: frame, echo: { unitId: eot.deviceId, status: detail } });
    };
    const onExpired = ({ frame }: { frame: Frame }) => {
      if (
        frame.destination !== eot.deviceId ||
        frame.type !== 'WRITE' ||
        frame.fields[0] !== eot.actuator
      ) {
        return;
      }
      this.forget(eot.deviceId);
      onMessage({
        target,
        payload: frame,
        echo: { unitId: eot.deviceId, status: 'expired in the offline queue', rejected: true },
      });
    };
    for (const event of ['frame', 'peer-frame'] as const) this.server.on(event, onFrame);
    for (const event of ['expired', 'peer-expired'] as const) this.server.on(event, onExpired);
    return () => {
      for (const event of ['frame', 'peer-frame'] as const) this.server.off(event, onFrame);
      for (const event of ['expired', 'peer-expired'] as const) this.server.off(event, onExpired);
    };
  }

  /** The device answered, or its queue expired: its WRITEs left the queue. */
  private forget(deviceId: string): void {
    for (const [commandId, device] of this.queued)
      if (device === deviceId) this.queued.delete(commandId);
  }
}

function eotOnly(target: CommandTarget): EotTarget {
  if (target.transport !== 'eot') throw new OrderRefused(`not an EOT target: ${target.transport}`);
  return target;
}
