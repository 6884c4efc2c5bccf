// Orders over EOT (eot-protocol.md): a `WRITE|<actuator>|<value>` frame from
// SERVER to one device, confirmed by that device's `ACK|<actuator>|<detail>`.
// The EOT server keeps orders for an offline device in its own queue (with a
// time to live), so an order it has queued is not queued again by a retry.
import type { DeviceFrame, OutboundFrame, SendResult } from '../eot/server';
import { SendError } from '../eot/server';
import type { Frame } from '../eot/codec';
import { CommandTransport, OrderRefused, OutgoingOrder } from './transport';
import type { CommandTarget, EotTarget, Incoming } from './types';

/** What the transport needs of the EOT server. */
export interface EotLink {
  send(frame: OutboundFrame): Promise<SendResult>;
  on(event: 'frame', listener: (frame: DeviceFrame) => void): unknown;
  on(event: 'expired', listener: (info: { frame: Frame; customer: string }) => void): unknown;
  off(event: 'frame', listener: (frame: DeviceFrame) => void): unknown;
  off(event: 'expired', listener: (info: { frame: Frame; customer: string }) => void): unknown;
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
    let result: SendResult;
    try {
      result = await this.server.send({
        destination: target.deviceId,
        type: 'WRITE',
        fields: [target.actuator, String(order.order)],
      });
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
    this.server.on('frame', onFrame);
    this.server.on('expired', onExpired);
    return () => {
      this.server.off('frame', onFrame);
      this.server.off('expired', onExpired);
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
