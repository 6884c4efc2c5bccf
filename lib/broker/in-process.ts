// The embedded broker as the flows of the same process reach it without a
// socket: the launcher sets it, the `broker-in` node subscribes through it, so
// a reading is parsed once (from the device's socket) instead of being written
// to the flow's loopback connection and parsed again.
import type { Readable } from 'node:stream';
import type { Aedes, AedesPublishPacket } from 'aedes';

/** A message as a subscriber of the broker receives it. */
export interface InProcessMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
}

export interface InProcessBroker {
  /** Whether an MQTT client configured with this host and port would reach this broker. */
  serves(host: string, port: number): boolean;
  /** Delivers the retained messages matching `filter`, then every message
   *  published on it, at most at `qos`; resolves with the way to stop. */
  subscribe(
    filter: string,
    qos: 0 | 1 | 2,
    deliver: (message: InProcessMessage) => void,
  ): Promise<() => Promise<void>>;
}

// On globalThis under a registered symbol: the launcher and the nodes may load
// this module from different copies (sources in tests, dist/ in production).
const CURRENT = Symbol.for('sensflow.inProcessBroker');
type Holder = { [CURRENT]?: InProcessBroker };

/** Sets (or, with undefined, clears) the broker of this process. */
export function setInProcessBroker(broker: InProcessBroker | undefined): void {
  (globalThis as Holder)[CURRENT] = broker;
}

/** The embedded broker running in this process, if any. */
export function inProcessBroker(): InProcessBroker | undefined {
  return (globalThis as Holder)[CURRENT];
}

type RetainedStore = { persistence: { createRetainedStream(pattern: string): Readable } };

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** The in-process side of an aedes broker listening on `port`; `host` is the
 *  address the launcher gives the flows for it. */
export function aedesInProcess(aedes: Aedes, host: string, port: number): InProcessBroker {
  return {
    serves: (h, p) => p === port && (h === host || LOOPBACK.has(h)),
    async subscribe(filter, qos, deliver) {
      // As for a network client, `+` and `#` at the start do not match the
      // broker's own `$SYS/...` topics (MQTT 3.1.1, 4.7.2).
      const hidesDollar = !filter.startsWith('$');
      const send = (packet: AedesPublishPacket, retain: boolean) => {
        if (hidesDollar && packet.topic.startsWith('$')) return;
        deliver({
          topic: packet.topic,
          payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
          qos: Math.min(packet.qos, qos) as 0 | 1 | 2,
          retain,
        });
      };
      const live = (packet: AedesPublishPacket, done: () => void) => {
        send(packet, false);
        done();
      };
      await new Promise<void>((resolve, reject) =>
        aedes.subscribe(filter, live, (err?: Error) => (err ? reject(err) : resolve())),
      );
      const retained = (aedes as unknown as RetainedStore).persistence.createRetainedStream(filter);
      for await (const packet of retained) send(packet as AedesPublishPacket, true);
      return () => new Promise<void>((resolve) => aedes.unsubscribe(filter, live, () => resolve()));
    },
  };
}
