// Reliable, ordered streams between instances over a broker that may repeat
// messages (QoS 1), lose them (a broker restarting without persistence, a
// subscriber not yet back) or be away for a while. Each sender–receiver pair
// has one stream: messages go out in numbered batches, the receiver hands
// them over strictly in order, once, and acknowledges the last batch it
// handled; the sender sends unacknowledged batches again until acknowledged.
// Tokens name each side's run, so a restarted instance starts a new stream
// and nothing meant for its previous run is handed to it.
//
// Independent of the transport (bus.ts puts it on MQTT), with an injected
// clock, so retries and reordering are unit-tested with a fake one.
import type { Clock, TimerHandle } from '../util/clock';

/** One publish on the wire: a batch of messages, or an acknowledgement. */
export interface Envelope {
  /** Sender id and token. */
  f: string;
  ft: string;
  /** Receiver id and token. */
  t: string;
  tt: string;
  /** Batch number (from 1) and its messages as [channel, body]. */
  s?: number;
  m?: Array<[string, unknown]>;
  /** Acknowledgement: every batch up to this number was handled. */
  a?: number;
}

export interface Endpoint {
  id: string;
  token: string;
}

export interface StreamsOptions {
  self: Endpoint;
  /** Publishes an envelope (already JSON) to `peer`; false when it cannot go now. */
  publish(peer: string, json: string): boolean;
  /** Hands one message over, in order. */
  deliver(from: string, channel: string, body: unknown): void;
  clock: Clock;
  /** Runs `fn` soon, once the current burst of sends is over (setImmediate). */
  defer?: (fn: () => void) => void;
  /** A batch not acknowledged within this is sent again. Default 1 s. */
  retryMs?: number;
  /** Bytes of messages per batch. Default 256 KiB. */
  maxBatchBytes?: number;
  /** Batches sent and not yet acknowledged, per peer. Default 256. */
  maxInFlight?: number;
  /** Messages waiting per peer beyond which send() refuses. Default 100,000. */
  maxQueued?: number;
  /** Batches received ahead of a missing one that are kept. Default 1,024. */
  maxHeld?: number;
  onResend?: (batches: number) => void;
  /** Messages that left in a batch, and that were handed over (counted per batch). */
  onCount?: (direction: 'out' | 'in', messages: number) => void;
}

interface Sent {
  json: string;
  /** The messages, for a stream that is given up. */
  messages: string[];
  sentAt: number | null;
}

interface Outbound {
  token: string;
  nextSeq: number;
  queue: string[];
  queuedBytes: number;
  unacked: Map<number, Sent>;
  flushing: boolean;
  timer?: TimerHandle;
}

interface Inbound {
  token: string;
  expected: number;
  held: Map<number, Envelope>;
  acking: boolean;
}

export class Streams {
  private readonly out = new Map<string, Outbound>();
  private readonly in = new Map<string, Inbound>();
  private readonly defer: (fn: () => void) => void;
  private readonly retryMs: number;
  private readonly maxBatchBytes: number;
  private readonly maxInFlight: number;
  private readonly maxQueued: number;
  private readonly maxHeld: number;

  constructor(private readonly options: StreamsOptions) {
    this.defer = options.defer ?? ((fn) => setImmediate(fn));
    this.retryMs = options.retryMs ?? 1000;
    this.maxBatchBytes = options.maxBatchBytes ?? 256 * 1024;
    this.maxInFlight = options.maxInFlight ?? 256;
    this.maxQueued = options.maxQueued ?? 100_000;
    this.maxHeld = options.maxHeld ?? 1024;
  }

  /** Queues a message for `peer` (whose run is `token`); false when too much
   *  already waits for it. A stream to an earlier run of the peer is given up:
   *  its messages come back from abort(), which the caller should call first. */
  send(peer: string, token: string, channel: string, body: unknown): boolean {
    let stream = this.out.get(peer);
    if (stream && stream.token !== token) return false;
    if (!stream) {
      stream = {
        token,
        nextSeq: 1,
        queue: [],
        queuedBytes: 0,
        unacked: new Map(),
        flushing: false,
      };
      this.out.set(peer, stream);
    }
    if (stream.queue.length >= this.maxQueued) return false;
    const message = JSON.stringify([channel, body]);
    stream.queue.push(message);
    stream.queuedBytes += message.length;
    if (!stream.flushing) {
      stream.flushing = true;
      this.defer(() => {
        stream.flushing = false;
        this.flush(peer);
      });
    }
    return true;
  }

  /** Messages sent to `peer` and not yet acknowledged, and those still queued. */
  pending(peer: string): number {
    const stream = this.out.get(peer);
    if (!stream) return 0;
    let n = stream.queue.length;
    for (const sent of stream.unacked.values()) n += sent.messages.length;
    return n;
  }

  /** Handles one envelope from the wire (JSON already parsed). */
  receive(env: Envelope): void {
    const self = this.options.self;
    if (env.t !== self.id || env.tt !== self.token) return; // for another run of ours
    if (env.a !== undefined) this.acknowledged(env.f, env.ft, env.a);
    if (env.s !== undefined) this.batch(env);
  }

  /** Gives up the streams with `peer` (lost, or a new run of it); returns what
   *  was sent and not acknowledged, and what was still queued, in order. */
  abort(peer: string, token?: string): Array<[string, unknown]> {
    const inbound = this.in.get(peer);
    if (inbound && (token === undefined || inbound.token === token)) this.in.delete(peer);
    const stream = this.out.get(peer);
    if (!stream || (token !== undefined && stream.token !== token)) return [];
    this.out.delete(peer);
    this.options.clock.clearTimeout(stream.timer);
    const messages = [...[...stream.unacked.values()].flatMap((s) => s.messages), ...stream.queue];
    return messages.map((m) => JSON.parse(m) as [string, unknown]);
  }

  /** The transport is back: everything unacknowledged goes again, in order. */
  resendAll(): void {
    for (const [peer, stream] of this.out) {
      this.resend(peer, stream, true);
      this.flush(peer);
    }
  }

  /** Stops the retry timers. */
  close(): void {
    for (const stream of this.out.values()) this.options.clock.clearTimeout(stream.timer);
  }

  // ---------------------------------------------------------------- sending

  private flush(peer: string): void {
    const stream = this.out.get(peer);
    if (!stream) return;
    const self = this.options.self;
    while (stream.queue.length > 0 && stream.unacked.size < this.maxInFlight) {
      let bytes = 0;
      let n = 0;
      while (
        n < stream.queue.length &&
        (n === 0 || bytes + stream.queue[n].length <= this.maxBatchBytes)
      )
        bytes += stream.queue[n++].length;
      const messages = stream.queue.splice(0, n);
      stream.queuedBytes -= bytes;
      const seq = stream.nextSeq++;
      // Built by hand: each message was serialized once, when it was queued.
      const head = JSON.stringify({
        f: self.id,
        ft: self.token,
        t: peer,
        tt: stream.token,
        s: seq,
      });
      const json = `${head.slice(0, -1)},"m":[${messages.join(',')}]}`;
      const sent: Sent = { json, messages, sentAt: null };
      stream.unacked.set(seq, sent);
      if (this.options.publish(peer, json)) sent.sentAt = this.options.clock.now();
      this.options.onCount?.('out', messages.length);
    }
    this.arm(peer, stream);
  }

  private acknowledged(peer: string, token: string, upTo: number): void {
    const stream = this.out.get(peer);
    if (!stream || stream.token !== token) return;
    for (const seq of stream.unacked.keys()) {
      if (seq > upTo) break;
      stream.unacked.delete(seq);
    }
    if (stream.unacked.size === 0) {
      this.options.clock.clearTimeout(stream.timer);
      stream.timer = undefined;
    }
    if (stream.queue.length > 0) this.flush(peer);
  }

  private arm(peer: string, stream: Outbound): void {
    if (stream.timer || stream.unacked.size === 0) return;
    stream.timer = this.options.clock.setTimeout(() => {
      stream.timer = undefined;
      if (this.out.get(peer) !== stream) return;
      this.resend(peer, stream, false);
      this.arm(peer, stream);
    }, this.retryMs);
  }

  private resend(peer: string, stream: Outbound, all: boolean): void {
    const now = this.options.clock.now();
    let resent = 0;
    for (const sent of stream.unacked.values()) {
      if (!all && sent.sentAt !== null && now - sent.sentAt < this.retryMs) continue;
      if (!this.options.publish(peer, sent.json)) break;
      if (sent.sentAt !== null) resent++;
      sent.sentAt = now;
    }
    if (resent > 0) this.options.onResend?.(resent);
  }

  // ---------------------------------------------------------------- receiving

  private batch(env: Envelope): void {
    let inbound = this.in.get(env.f);
    if (!inbound || inbound.token !== env.ft) {
      // A sender's new run starts from batch 1; anything older is gone with its run.
      inbound = { token: env.ft, expected: 1, held: new Map(), acking: false };
      this.in.set(env.f, inbound);
    }
    const seq = env.s!;
    if (seq === inbound.expected) {
      this.hand(env);
      inbound.expected++;
      for (
        let next = inbound.held.get(inbound.expected);
        next;
        next = inbound.held.get(inbound.expected)
      ) {
        inbound.held.delete(inbound.expected);
        this.hand(next);
        inbound.expected++;
      }
    } else if (seq > inbound.expected && inbound.held.size < this.maxHeld) {
      inbound.held.set(seq, env); // a batch before it went missing: wait for its resend
    }
    // Also for a repeat: the sender missed our acknowledgement.
    this.ack(env.f, inbound);
  }

  private hand(env: Envelope): void {
    const messages = env.m ?? [];
    this.options.onCount?.('in', messages.length);
    for (const [channel, body] of messages) this.options.deliver(env.f, channel, body);
  }

  private ack(peer: string, inbound: Inbound): void {
    if (inbound.acking) return;
    inbound.acking = true;
    // One acknowledgement for everything handled in this turn.
    this.defer(() => {
      inbound.acking = false;
      if (this.in.get(peer) !== inbound) return;
      const self = this.options.self;
      const ack: Envelope = {
        f: self.id,
        ft: self.token,
        t: peer,
        tt: inbound.token,
        a: inbound.expected - 1,
      };
      this.options.publish(peer, JSON.stringify(ack));
    });
  }
}
