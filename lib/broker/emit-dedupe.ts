// aedes numbers each packet when it accepts it (brokerCounter) and, so that a
// client with overlapping subscriptions (`a/#` and `a/b`) gets a packet once,
// drops any packet whose number is not above the last one it sent that
// client. That assumes packets are delivered in the order they were
// numbered, and they are not: a retained packet waits for its LevelDB write,
// a QoS 1/2 packet for the offline queue, while a QoS 0 packet accepted
// after it goes straight out. The overtaken packet is then dropped for every
// subscriber that got the later one: retained room temperatures went missing
// whenever another device published in the same instant (moscajs/aedes#955).
//
// Here a client's packet is a duplicate only if it belongs to the delivery
// already under way, which is what the dedupe is meant to catch: aedes
// delivers one packet to all its matching subscriptions synchronously.
import { Aedes, Client } from 'aedes';
import { Logger } from '../util/log';

interface Emitter {
  _do(message: unknown, callback: unknown): unknown;
}

/** Makes `aedes` dedupe per delivery; call before any client connects. */
export function dedupePerDelivery(aedes: Aedes, logger: Logger): void {
  const mq = (aedes as unknown as { mq: Partial<Emitter> }).mq;
  const deliver = mq._do;
  // Fail at start, not by losing messages, if a new aedes or mqemitter changed shape.
  if (typeof deliver !== 'function')
    throw new Error('this aedes version has no mqemitter _do: check emit-dedupe.ts');

  let delivering = 0; // the packet whose delivery is under way (0: none)
  let deliveries = 0;
  mq._do = function (message, callback) {
    const outer = delivering;
    delivering = ++deliveries;
    try {
      return deliver.call(this, message, callback);
    } finally {
      delivering = outer;
    }
  };

  let warned = false;
  aedes.on('client', (client: Client) => {
    const duplicates = (client as unknown as { duplicates?: Record<string, number> }).duplicates;
    if (!duplicates) {
      // Known only once a client connects; the broker tests tell whether a
      // new aedes still drops overtaken packets.
      if (!warned) logger.warn('embedded broker: this aedes has no client.duplicates to fix');
      warned = true;
      return;
    }
    let lastDelivery = 0;
    // aedes forwards a packet when duplicates[id] < its brokerCounter (≥ 1)
    // and then stores the counter: read 0 for a new delivery, Infinity for
    // one this client already got.
    Object.defineProperty(duplicates, aedes.id, {
      configurable: true,
      enumerable: true,
      get: () => (delivering !== 0 && delivering === lastDelivery ? Infinity : 0),
      set: () => {
        lastDelivery = delivering;
      },
    });
  });
}
