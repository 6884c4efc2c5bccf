// This instance as a member of a cluster of Sensflow servers sharing one
// store and one broker: its lease (lease.ts), its view of the other
// instances, the bus to them (bus.ts), who owns what (ownership.ts), and the
// clean-up after an instance is lost. Services (the EOT server, commands,
// the device watchdog, alarms) take the narrow parts they need.
import os from 'node:os';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import type { Clock } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import { BusRefusedError, ChannelHandler, ClusterBus } from './bus';
import { InstanceLease, Member, MembershipEvent } from './lease';
import { clusterMetrics } from './metrics';
import { ownerOf } from './ownership';

export interface ClusterOptions {
  id: string;
  db: Kysely<Database>;
  /** The broker (no login in the URL) and the service login. */
  broker: { url: string; username?: string; password?: string };
  ttlMs: number;
  clock: Clock;
  logger: Logger;
  /** Called when this instance lost its lease: it must stop serving. */
  onEvicted: (reason: string) => void;
  retryMs?: number;
}

/** What services see of the cluster. */
export interface ClusterView {
  readonly id: string;
  readonly token: string;
  /** How long an instance may be silent before it counts as lost. */
  readonly leaseMs: number;
  /** The live instances, this one included. */
  members(): Member[];
  /** The token of a live instance's current run, or undefined. */
  tokenOf(id: string): string | undefined;
  /** True when this instance owns `key` among the live instances. */
  owns(key: string): boolean;
  /** Calls `listener` for every instance that joins or is lost; returns the unsubscribe. */
  onMembership(listener: (event: MembershipEvent) => void): () => void;
  send(peer: string, token: string, channel: string, body: unknown): boolean;
  handle(channel: string, handler: ChannelHandler): () => void;
}

export class Cluster implements ClusterView {
  private constructor(
    private readonly options: ClusterOptions,
    private readonly lease: InstanceLease,
    private readonly bus: ClusterBus,
  ) {}

  /** Takes the lease (refusing a duplicate id with InstanceIdTakenError),
   *  connects the bus, cleans what a dead previous run of this id left. */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const lease = new InstanceLease(options.db, {
      id: options.id,
      ttlMs: options.ttlMs,
      clock: options.clock,
      logger: options.logger,
      host: os.hostname(),
      pid: process.pid,
    });
    const previous = await lease.acquire();
    const bus = new ClusterBus({
      ...options.broker,
      self: { id: options.id, token: lease.token },
      clock: options.clock,
      logger: options.logger,
      retryMs: options.retryMs,
    });
    const cluster = new Cluster(options, lease, bus);
    try {
      await bus.start();
    } catch (err) {
      if (!(err instanceof BusRefusedError)) {
        // A broker that is away comes back: the bus connects then (see /healthz).
        options.logger.warn(`cluster bus: ${errorMessage(err)}; going on without it for now`);
      } else {
        await bus.close().catch(() => undefined);
        await lease.stop();
        throw err;
      }
    }
    // Rows of an earlier run of this id (killed) are stale; ours come next.
    await cluster.forgetInstance(options.id, (token) => token !== lease.token);
    if (previous) clusterMetrics.takenOver.inc({ kind: 'lease' });
    lease.onChange((event) => cluster.changed(event));
    await lease.poll();
    lease.start((reason) => {
      options.logger.error(`instance ${options.id}: lease lost (${reason}): stopping`);
      options.onEvicted(reason);
    });
    clusterMetrics.instances.set(lease.members().length);
    return cluster;
  }

  get id(): string {
    return this.options.id;
  }

  get token(): string {
    return this.lease.token;
  }

  get leaseMs(): number {
    return this.options.ttlMs;
  }

  /** Healthy: the lease is renewed in time and the bus is connected. */
  check(): void {
    if (!this.lease.healthy) throw new Error('the lease is not renewed');
    if (!this.bus.connected) throw new Error('the bus to the broker is down');
  }

  members(): Member[] {
    return this.lease.members();
  }

  tokenOf(id: string): string | undefined {
    return this.lease.tokenOf(id);
  }

  owns(key: string): boolean {
    return (
      ownerOf(
        key,
        this.lease.members().map((m) => m.id),
      ) === this.id
    );
  }

  onMembership(listener: (event: MembershipEvent) => void): () => void {
    return this.lease.onChange(listener);
  }

  send(peer: string, token: string, channel: string, body: unknown): boolean {
    return this.bus.send(peer, token, channel, body);
  }

  handle(channel: string, handler: ChannelHandler): () => void {
    return this.bus.handle(channel, handler);
  }

  /** Messages to other instances not yet acknowledged. */
  pending(): number {
    let n = 0;
    for (const m of this.members()) if (m.id !== this.id) n += this.bus.pending(m.id);
    return n;
  }

  /** Beats once and reads the others now (tests, and a start that must see them). */
  async refresh(): Promise<void> {
    await this.lease.beat();
  }

  async stop(): Promise<void> {
    await this.lease.stop();
    await this.bus.close();
  }

  // ---------------------------------------------------------------- events

  private changed(event: MembershipEvent): void {
    clusterMetrics.instances.set(this.lease.members().length);
    if (event.kind !== 'lost') {
      this.options.logger.info(`instance ${event.id} joined`);
      return;
    }
    clusterMetrics.lost.inc();
    this.options.logger.warn(`instance ${event.id} lost: its devices and work are taken over`);
    this.bus.lost(event.id, event.token);
    void this.forgetInstance(event.id, (token) => token === event.token);
  }

  /** Presence rows of a run that is over: its devices are offline until they log in again. */
  private async forgetInstance(id: string, stale: (token: string) => boolean): Promise<void> {
    try {
      const rows = await this.options.db
        .selectFrom('eot_presence')
        .select(['device_id', 'instance_token'])
        .where('instance_id', '=', id)
        .execute();
      const gone = rows.filter((r) => stale(r.instance_token));
      for (const token of new Set(gone.map((r) => r.instance_token))) {
        await this.options.db
          .deleteFrom('eot_presence')
          .where('instance_id', '=', id)
          .where('instance_token', '=', token)
          .execute();
      }
      if (gone.length > 0) clusterMetrics.takenOver.inc({ kind: 'presence' }, gone.length);
    } catch (err) {
      this.options.logger.warn(`presence of instance ${id} not cleaned: ${errorMessage(err)}`);
    }
  }
}
