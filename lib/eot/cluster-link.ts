// The EOT server as one of several instances: where a device logged in
// elsewhere is (eot_presence, cached for a moment), frames to it over the
// bus (ordered per pair of instances, lib/cluster/link.ts), broadcasts,
// alarm fan-out and subscribed readings to the other instances, takeover of
// a device that logs in here while held elsewhere, and the ACKs and expired
// orders the instance owning an actuator command must hear. The customer
// check is always made by the sending instance, before anything leaves it.
import { randomBytes } from 'node:crypto';
import type { ClusterView } from '../cluster/cluster';
import type { MembershipEvent } from '../cluster/lease';
import type { Clock } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import type { Frame } from './codec';
import { SERVER } from './constants';
import type { Connection } from './connection';
import type { PresenceTable } from './presence';

/** A device connected to another instance. */
export interface RemoteDevice {
  instanceId: string;
  token: string;
  customerId: string;
}

/** What the link does to this instance's side of things (the router). */
export interface LocalSide {
  readonly online: ReadonlyMap<string, Connection>;
  deliver(conn: Connection, raw: Buffer, type: string): void;
  reply(conn: Connection, type: string, fields: string[]): void;
  broadcast(customer: string, origin: string, raw: Buffer, type: string): void;
  alarm(customer: string, frame: Frame): void;
  crossings(customer: string, frame: Frame): void;
  /** A frame for a device that is not here after all: kept (MSG, WRITE) or
   *  refused; the answer for its sender (null for a frame that does not decode). */
  offline(raw: Buffer, customer: string): Promise<{ type: string; fields: string[] } | null>;
  drain(conn: Connection): void;
  /** An ACK or an expired order from another instance, for actuator commands here. */
  peerEvent(kind: 'frame' | 'expired', frame: Frame, customer: string): void;
  /** `customer\0sensor` of every conditional subscription held here. */
  interest(): string[];
}

type Body =
  | {
      k: 'f';
      to: string;
      from: string;
      c: string;
      t: string;
      r: string;
      h: number;
      oi: string;
      ot: string;
    }
  | { k: 'r'; to: string; t: string; fs: string[] }
  | { k: 'b'; c: string; o: string; t: string; r: string }
  | { k: 'a' | 'x'; c: string; fr: Frame }
  | { k: 'i'; keys: string[] }
  | { k: 'kick'; d: string; s: string }
  | { k: 'drain'; d: string }
  | { k: 'p'; ev: 'frame' | 'expired'; fr: Frame; c: string };

export interface EotClusterOptions {
  cluster: ClusterView;
  /** The eot-server's id, the same on every instance running the same flows. */
  serverId: string;
  presence: PresenceTable;
  clock: Clock;
  logger?: Logger;
  /** How long a device's whereabouts are trusted without asking the store. Default 2 s. */
  cacheMs?: number;
}

/** Raw frames travel as latin1 text: one character per byte, whatever the separator. */
const text = (raw: Buffer) => raw.toString('latin1');
const bytes = (s: string) => Buffer.from(s, 'latin1');

export class EotCluster {
  private readonly channel: string;
  private readonly cache = new Map<string, { where: RemoteDevice; until: number }>();
  private readonly peerInterest = new Map<string, Set<string>>();
  private readonly stops: Array<() => void> = [];
  private interestSent = '';
  private interestTimer = false;
  /** Inbound frames that wait on the store, and those behind them, in order. */
  private slow: Promise<void> = Promise.resolve();
  private slowCount = 0;

  constructor(
    private readonly options: EotClusterOptions,
    private readonly local: LocalSide,
  ) {
    this.channel = `eot/${options.serverId}`;
    this.stops.push(
      options.cluster.handle(this.channel, {
        message: (from, body) => this.receive(from, body as Body),
        undelivered: (peer, body) => this.undelivered(peer, body as Body),
      }),
      options.cluster.onMembership((event) => this.membership(event)),
    );
  }

  get instanceId(): string {
    return this.options.cluster.id;
  }

  /** A random id for one connection's session. */
  newSession(): string {
    return randomBytes(8).toString('hex');
  }

  stop(): void {
    for (const stop of this.stops.splice(0)) stop();
  }

  // ---------------------------------------------------------------- presence

  /** Records that `conn` holds its device here; the instance that held it closes its connection. */
  async claim(conn: Connection): Promise<void> {
    const { cluster, presence, clock, serverId } = this.options;
    this.cache.delete(conn.id!);
    const previous = await presence.claim({
      deviceId: conn.id!,
      serverId,
      instanceId: cluster.id,
      instanceToken: cluster.token,
      session: conn.session!,
      customerId: conn.customerId!,
      since: clock.now(),
    });
    if (!previous || previous.instanceId === cluster.id) return;
    if (cluster.tokenOf(previous.instanceId) !== previous.instanceToken) return; // that run is over
    this.options.logger?.info(
      `EOT ${conn.id}: logged in here, taking over from instance ${previous.instanceId}`,
    );
    this.sendTo(previous.instanceId, previous.instanceToken, {
      k: 'kick',
      d: conn.id!,
      s: previous.session,
    });
  }

  release(conn: Connection): void {
    this.options.presence
      .release(conn.id!, conn.session!)
      .catch((err: unknown) =>
        this.options.logger?.warn(`EOT presence of ${conn.id}: ${errorMessage(err)}`),
      );
  }

  /** Where `deviceId` is, when on another live instance (a cached answer comes synchronously). */
  locate(deviceId: string, fresh = false): RemoteDevice | null | Promise<RemoteDevice | null> {
    if (!fresh) {
      const hit = this.cache.get(deviceId);
      if (hit && hit.until > this.options.clock.now()) return hit.where;
    }
    return this.lookUp(deviceId);
  }

  private async lookUp(deviceId: string): Promise<RemoteDevice | null> {
    const { cluster, presence, clock, serverId } = this.options;
    const row = await presence.find(deviceId);
    if (!row || row.serverId !== serverId || row.instanceId === cluster.id) return null;
    const live = cluster.tokenOf(row.instanceId);
    // Known to be a run that is over; an instance not seen yet is taken at its word.
    if (live !== undefined && live !== row.instanceToken) return null;
    const where = {
      instanceId: row.instanceId,
      token: row.instanceToken,
      customerId: row.customerId,
    };
    this.cache.set(deviceId, { where, until: clock.now() + (this.options.cacheMs ?? 2000) });
    return where;
  }

  // ---------------------------------------------------------------- outbound

  /** Hands a frame from `from` (a device here, or SERVER) to the instance holding its destination. */
  forward(
    where: RemoteDevice,
    frame: { to: string; from: string; customer: string; type: string; raw: Buffer },
    hops = 0,
  ): boolean {
    const { cluster } = this.options;
    return this.sendTo(where.instanceId, where.token, {
      k: 'f',
      to: frame.to,
      from: frame.from,
      c: frame.customer,
      t: frame.type,
      r: text(frame.raw),
      h: hops,
      oi: cluster.id,
      ot: cluster.token,
    });
  }

  broadcast(customer: string, origin: string, raw: Buffer, type: string): void {
    this.toAll({ k: 'b', c: customer, o: origin, t: type, r: text(raw) });
  }

  alarm(customer: string, frame: Frame): void {
    this.toAll({ k: 'a', c: customer, fr: frame });
  }

  /** A reading goes to the instances whose devices subscribed to its sensor. */
  reading(customer: string, frame: Frame): void {
    const key = `${customer}\u0000${frame.fields[0]}`;
    for (const [peer, keys] of this.peerInterest) {
      const token = keys.has(key) ? this.options.cluster.tokenOf(peer) : undefined;
      if (token) this.sendTo(peer, token, { k: 'x', c: customer, fr: frame });
    }
  }

  /** Whether instance `peer` last told this one that a device there holds a
   *  conditional subscription to `sensor` (read-only: tests wait on it). */
  peerWants(peer: string, customer: string, sensor: string): boolean {
    return this.peerInterest.get(peer)?.has(`${customer}\u0000${sensor}`) ?? false;
  }

  /** An ACK to SERVER or an expired order: the actuator command may live on another instance. */
  relay(kind: 'frame' | 'expired', frame: Frame, customer: string): void {
    this.toAll({ k: 'p', ev: kind, fr: frame, c: customer });
  }

  /** A frame was queued for a device that may have just logged in elsewhere:
   *  that instance delivers its queue again (see README, Scale-out). */
  async queuedFor(deviceId: string): Promise<void> {
    const where = await this.locate(deviceId, true);
    if (where) this.sendTo(where.instanceId, where.token, { k: 'drain', d: deviceId });
  }

  /** An answer (ERROR, ACK|queued) for a device wherever it is. */
  async replyTo(deviceId: string, type: string, fields: string[]): Promise<void> {
    const conn = this.local.online.get(deviceId);
    if (conn) return this.local.reply(conn, type, fields);
    const where = await this.locate(deviceId, true);
    if (where)
      this.sendTo(where.instanceId, where.token, { k: 'r', to: deviceId, t: type, fs: fields });
  }

  /** Conditional subscriptions changed here: the others learn it shortly (one message per burst). */
  interestChanged(): void {
    if (this.interestTimer) return;
    this.interestTimer = true;
    this.options.clock.setTimeout(() => {
      this.interestTimer = false;
      const keys = this.local.interest().sort();
      const joined = keys.join('\n');
      if (joined === this.interestSent) return;
      this.interestSent = joined;
      this.toAll({ k: 'i', keys });
    }, 50);
  }

  // ---------------------------------------------------------------- inbound

  private receive(from: string, body: Body): void {
    if (body.k === 'f' || this.slowCount > 0) {
      // Frames keep their order behind one that waits on the store.
      if (this.slowCount === 0 && body.k === 'f' && this.fast(body)) return;
      this.slowCount++;
      this.slow = this.slow
        .then(() => this.handle(from, body))
        .catch((err: unknown) =>
          this.options.logger?.warn(`EOT from ${from}: ${errorMessage(err)}`),
        )
        .finally(() => this.slowCount--);
      return;
    }
    void this.handle(from, body);
  }

  /** Delivers a frame to a device here; false when it is not here. */
  private fast(body: Extract<Body, { k: 'f' }>): boolean {
    const conn = this.local.online.get(body.to);
    if (!conn || conn.customerId !== body.c) return false;
    this.local.deliver(conn, bytes(body.r), body.t);
    return true;
  }

  private async handle(from: string, body: Body): Promise<void> {
    const online = this.local.online;
    switch (body.k) {
      case 'f':
        if (!this.fast(body)) await this.missing(body);
        return;
      case 'r': {
        const conn = online.get(body.to);
        if (conn) this.local.reply(conn, body.t, body.fs);
        return;
      }
      case 'b':
        return this.local.broadcast(body.c, body.o, bytes(body.r), body.t);
      case 'a':
        return this.local.alarm(body.c, body.fr);
      case 'x':
        return this.local.crossings(body.c, body.fr);
      case 'i':
        this.peerInterest.set(from, new Set(body.keys));
        return;
      case 'kick': {
        const conn = online.get(body.d);
        if (conn && conn.session === body.s) conn.close('takeover');
        return;
      }
      case 'drain': {
        const conn = online.get(body.d);
        if (conn) this.local.drain(conn);
        return;
      }
      case 'p':
        return this.local.peerEvent(body.ev, body.fr, body.c);
    }
  }

  /** The destination left this instance: follow it once, else keep or refuse the frame here. */
  private async missing(body: Extract<Body, { k: 'f' }>): Promise<void> {
    const raw = bytes(body.r);
    if (body.h < 1) {
      const where = await this.locate(body.to, true);
      if (where && where.customerId === body.c) {
        this.forward(
          where,
          { to: body.to, from: body.from, customer: body.c, type: body.t, raw },
          body.h + 1,
        );
        return;
      }
    }
    const answer = await this.local.offline(raw, body.c);
    if (!answer) return;
    if (body.from === SERVER) return;
    this.sendTo(body.oi, body.ot, { k: 'r', to: body.from, t: answer.type, fs: answer.fields });
  }

  /** A frame a lost instance never confirmed: its sender here is told. */
  private undelivered(peer: string, body: Body): void {
    if (body.k !== 'f' || body.from === SERVER) return;
    const conn = this.local.online.get(body.from);
    if (conn)
      this.local.reply(conn, 'ERROR', [
        'OFFLINE',
        `${body.t} to ${body.to} not confirmed: server ${peer} was lost`,
      ]);
  }

  private membership(event: MembershipEvent): void {
    if (event.kind === 'lost') {
      this.peerInterest.delete(event.id);
      for (const [device, hit] of this.cache)
        if (hit.where.instanceId === event.id) this.cache.delete(device);
      return;
    }
    const keys = this.local.interest();
    if (keys.length > 0) this.sendTo(event.id, event.token, { k: 'i', keys });
  }

  // ---------------------------------------------------------------- plumbing

  private toAll(body: Body): void {
    const { cluster } = this.options;
    for (const m of cluster.members()) if (m.id !== cluster.id) this.sendTo(m.id, m.token, body);
  }

  private sendTo(peer: string, token: string, body: Body): boolean {
    return this.options.cluster.send(peer, token, this.channel, body);
  }
}
