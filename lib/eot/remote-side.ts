// What frames from other instances do here (cluster-link.ts calls it): they
// are delivered to this instance's devices, broadcast to its devices of a
// customer, fanned out to its subscribers; a frame for a device that has left
// meanwhile is kept in the offline queue (MSG, WRITE) or refused, and the
// answer goes back to its sender's instance.
import type { DeviceDirectory } from '../registry/directory';
import { decodeBody, Frame } from './codec';
import type { LocalSide } from './cluster-link';
import { QUEUED_TYPES } from './constants';
import { countDropped } from './metrics';
import type { ResolvedOptions } from './options';
import type { Kept } from './queue-delivery';
import type { Router } from './router';

export interface RemoteSideDeps {
  options: ResolvedOptions;
  directory: DeviceDirectory;
  keep(frame: Frame, customer: string): Promise<Kept>;
  peerEvent(kind: 'frame' | 'expired', frame: Frame, customer: string): void;
}

export function remoteSide(router: Router, deps: RemoteSideDeps): LocalSide {
  /** A frame another instance sent here for a device that is not here (any more). */
  const offline = async (raw: Buffer, customer: string) => {
    let frame: Frame;
    try {
      frame = decodeBody(raw.subarray(0, raw.length - 1), deps.options.separator);
    } catch {
      return null;
    }
    const to = frame.destination;
    const target = router.online.get(to);
    if (target && target.customerId === customer) {
      router.deliver(target, raw, frame.type);
      return null;
    }
    countDropped('moved');
    if (!QUEUED_TYPES.has(frame.type))
      return { type: 'ERROR', fields: ['OFFLINE', `${to} is offline`] };
    const device = await deps.directory.findDevice(to).catch(() => null);
    if (!device || device.customerId !== customer)
      return { type: 'ERROR', fields: ['UNKNOWN_DESTINATION', `no device ${to}`] };
    const kept = await deps.keep(frame, customer);
    return kept.ok
      ? { type: 'ACK', fields: ['queued', to] }
      : { type: 'ERROR', fields: ['OFFLINE', kept.text] };
  };
  return {
    online: router.online,
    deliver: (conn, raw, type) => router.deliver(conn, raw, type),
    reply: (conn, type, fields) => router.reply(conn, type, fields),
    broadcast: (customer, origin, raw, type) => {
      for (const peer of router.peersOf(customer))
        if (peer.id !== origin) router.deliver(peer, raw, type);
    },
    alarm: (customer, frame) => router.fanOut.alarm(customer, frame),
    crossings: (customer, frame) => router.fanOut.crossings(customer, frame),
    offline,
    drain: (conn) => void router.drain(conn),
    peerEvent: deps.peerEvent,
    interest: () => router.fanOut.interest(),
  };
}
