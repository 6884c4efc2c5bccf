// How an order leaves and how its confirmations come back, whatever the wire:
// MQTT (mqtt-transport.ts) and EOT WRITE/ACK (eot-transport.ts). The service
// only sees this interface.
import type { CommandTarget, Incoming, OrderValue } from './types';

export interface OutgoingOrder {
  commandId: string;
  target: CommandTarget;
  order: OrderValue;
  /** `all` or one unit id. */
  dest: string;
}

export interface CommandTransport {
  /** True when this transport can carry orders to `target` at all. */
  reaches(target: CommandTarget): boolean;
  /** True when an order to `target` can leave now (false while the broker is down). */
  isReady(target: CommandTarget): boolean;
  /** Calls `listener` each time the transport becomes ready again; returns the unsubscribe. */
  onReady(listener: () => void): () => void;
  /** Sends one order. Resolves once the transport holds it with delivery
   *  assurance (MQTT: the broker's PUBACK). Rejects with an OrderRefused when
   *  the other side refused it for good (no retry); any other rejection is a
   *  failed attempt, retried. */
  send(order: OutgoingOrder): Promise<void>;
  /** Starts hearing what units at `target` say (echoes, ACKs), resolving once
   *  listening is in place, so an order sent next cannot be answered unheard.
   *  Resolves with the function that stops listening. */
  listen(target: CommandTarget, onMessage: (message: Incoming) => void): Promise<() => void>;
}

/** The broker or the device refused an order for good (e.g. not authorized). */
export class OrderRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrderRefused';
  }
}

/** One transport per kind of target; a missing one refuses its targets. */
export function transportsByTarget(
  transports: Partial<Record<CommandTarget['transport'], CommandTransport>>,
): CommandTransport {
  const pick = (target: CommandTarget) => {
    const transport = transports[target.transport];
    if (!transport) throw new OrderRefused(`no ${target.transport} transport here`);
    return transport;
  };
  return {
    reaches: (target) => transports[target.transport]?.reaches(target) ?? false,
    isReady: (target) => transports[target.transport]?.isReady(target) ?? false,
    onReady(listener) {
      const present = Object.values(transports).filter((t): t is CommandTransport => !!t);
      const stops = present.map((t) => t.onReady(listener));
      return () => stops.forEach((stop) => stop());
    },
    send: async (order) => pick(order.target).send(order),
    listen: async (target, onMessage) => pick(target).listen(target, onMessage),
  };
}
