// An instance's lease in the shared store, and its view of the others. Each
// running instance holds one row (its id, a random token for this run, a beat
// counter) and bumps the counter every beat. Liveness is judged by watching
// the counter move on the observer's own clock, never by comparing clocks of
// two machines: an instance whose counter stood still for its ttl is dead,
// its row is removed and every observer reports it lost once.
//
// Starting under an id that is held: if the holder's counter moves, a live
// instance has that id and the start is refused; if it stands still for a
// whole ttl, the holder died (kill -9, power loss) and the lease is taken over.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { SettingError } from '../config/parse';
import { isDuplicateKey } from '../registry/errors';
import type { Database } from '../store/schema';
import type { Clock, TimerHandle } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import type { InstancesTable } from './schema';

export interface Member {
  id: string;
  token: string;
  host: string;
  pid: number;
  startedAt: number;
}

export type MembershipEvent = { kind: 'joined' | 'lost'; id: string; token: string };

export interface LeaseOptions {
  id: string;
  /** How long a silent instance is waited for before it counts as dead. */
  ttlMs: number;
  clock: Clock;
  logger: Logger;
  host: string;
  pid: number;
  /** This run's token (random by default). */
  token?: string;
}

/** The id is held by an instance that is alive. */
export class InstanceIdTakenError extends SettingError {
  constructor(id: string, holder: Pick<InstancesTable, 'host' | 'pid'>) {
    super(
      'SENSFLOW_INSTANCE_ID',
      `instance "${id}" is already running (host ${holder.host}, pid ${holder.pid}): ` +
        'give each server sharing this database its own id',
    );
    this.name = 'InstanceIdTakenError';
  }
}

interface Observed {
  token: string;
  beats: number;
  ttlMs: number;
  /** When, on our clock, the counter was last seen to move (or first seen). */
  movedAt: number;
  member: Member;
}

export class InstanceLease {
  readonly token: string;
  readonly beatMs: number;
  private readonly observed = new Map<string, Observed>();
  private readonly listeners = new Set<(event: MembershipEvent) => void>();
  private timer?: TimerHandle;
  private beats = 0;
  private lastRenewal = 0;
  private lastPoll = 0;
  private stopped = false;
  private evicted?: (reason: string) => void;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: LeaseOptions,
  ) {
    this.token = options.token ?? randomBytes(12).toString('hex');
    this.beatMs = Math.max(100, Math.floor(options.ttlMs / 5));
  }

  get id(): string {
    return this.options.id;
  }

  /** Takes the lease (waiting out a dead holder); throws InstanceIdTakenError
   *  when a live instance holds the id. Resolves with the token of the dead
   *  incarnation it replaced, if any. */
  async acquire(): Promise<string | undefined> {
    const { clock } = this.options;
    for (;;) {
      const held = await this.read();
      if (!held) {
        try {
          await this.db.insertInto('sensflow_instances').values(this.row()).execute();
          this.lastRenewal = clock.now();
          return undefined;
        } catch (err) {
          if (isDuplicateKey(err)) continue; // another start won the insert: look again
          throw err;
        }
      }
      const since = clock.now();
      let current: InstancesTable | undefined = held;
      while (current && clock.now() - since < Number(held.ttl_ms)) {
        await this.sleep(this.beatMs);
        current = await this.read();
        if (
          current &&
          (current.token !== held.token || Number(current.beats) !== Number(held.beats))
        )
          throw new InstanceIdTakenError(this.id, current);
      }
      if (!current) continue; // released meanwhile
      const taken = await this.db
        .updateTable('sensflow_instances')
        .set(this.row())
        .where('id', '=', this.id)
        .where('token', '=', held.token)
        .where('beats', '=', held.beats)
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) === 1) {
        this.options.logger.warn(
          `instance ${this.id}: the previous holder (host ${held.host}, pid ${held.pid}) ` +
            `stopped beating; its lease is taken over`,
        );
        this.lastRenewal = clock.now();
        return held.token;
      }
    }
  }

  /** Beats and watches the others until stopped. `onEvicted` is called when
   *  the lease was lost (another process holds the id now). */
  start(onEvicted: (reason: string) => void): void {
    this.evicted = onEvicted;
    this.lastPoll = this.options.clock.now();
    this.schedule();
  }

  /** Calls `listener` for every instance that joins or is lost; returns the unsubscribe. */
  onChange(listener: (event: MembershipEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The live instances, this one included, by id. */
  members(): Member[] {
    const self: Member = {
      id: this.id,
      token: this.token,
      host: this.options.host,
      pid: this.options.pid,
      startedAt: 0,
    };
    const others = [...this.observed.values()].map((o) => o.member);
    return [self, ...others.filter((m) => m.id !== this.id)].sort((a, b) =>
      a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
  }

  /** The token of a live instance, or undefined. */
  tokenOf(id: string): string | undefined {
    return id === this.id ? this.token : this.observed.get(id)?.token;
  }

  /** True while the last renewal is recent enough that nobody may have declared us dead. */
  get healthy(): boolean {
    return this.options.clock.now() - this.lastRenewal < this.options.ttlMs;
  }

  /** One beat: renew, then look at the others. Called by the timer (and tests). */
  async beat(): Promise<void> {
    await this.renew();
    if (!this.stopped) await this.poll();
  }

  /** Stops beating and gives the id back (a clean stop: others need not wait). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.options.clock.clearTimeout(this.timer);
    await this.db
      .deleteFrom('sensflow_instances')
      .where('id', '=', this.id)
      .where('token', '=', this.token)
      .execute()
      .catch((err: unknown) =>
        this.options.logger.warn(`instance ${this.id}: lease not released: ${errorMessage(err)}`),
      );
  }

  // ---------------------------------------------------------------- beats

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.beat().finally(() => this.schedule());
    }, this.beatMs);
  }

  private async renew(): Promise<void> {
    const now = this.options.clock.now();
    try {
      const result = await this.db
        .updateTable('sensflow_instances')
        .set({ beats: ++this.beats, heartbeat_at: now })
        .where('id', '=', this.id)
        .where('token', '=', this.token)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return this.evict('the lease row is gone or taken');
      this.lastRenewal = now;
    } catch (err) {
      this.options.logger.warn(`instance ${this.id}: heartbeat failed: ${errorMessage(err)}`);
    }
  }

  private evict(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.options.clock.clearTimeout(this.timer);
    this.evicted?.(reason);
  }

  /** Reads every lease and reports who joined and who was lost. */
  async poll(): Promise<void> {
    const now = this.options.clock.now();
    let rows: InstancesTable[];
    try {
      rows = await this.db.selectFrom('sensflow_instances').selectAll().execute();
    } catch (err) {
      this.options.logger.warn(`instance ${this.id}: cannot read leases: ${errorMessage(err)}`);
      return;
    }
    // After a blind spot of ours (the store away), nobody can be judged on it.
    const blind = now - this.lastPoll > 2 * this.beatMs + 1000;
    this.lastPoll = now;
    const present = new Set<string>();
    for (const row of rows) {
      if (row.id === this.id) continue;
      present.add(row.id);
      const beats = Number(row.beats);
      const known = this.observed.get(row.id);
      if (known && known.token !== row.token) {
        this.lose(row.id, known.token);
      } else if (known) {
        if (known.beats !== beats || blind) {
          known.beats = beats;
          known.movedAt = now;
        } else if (now - known.movedAt >= known.ttlMs) {
          this.lose(row.id, known.token);
          await this.db
            .deleteFrom('sensflow_instances')
            .where('id', '=', row.id)
            .where('token', '=', row.token)
            .where('beats', '=', row.beats)
            .execute()
            .catch(() => undefined);
        }
        continue;
      }
      this.observed.set(row.id, {
        token: row.token,
        beats,
        ttlMs: Number(row.ttl_ms),
        movedAt: now,
        member: {
          id: row.id,
          token: row.token,
          host: row.host,
          pid: Number(row.pid),
          startedAt: Number(row.started_at),
        },
      });
      this.emit({ kind: 'joined', id: row.id, token: row.token });
    }
    for (const [id, known] of [...this.observed]) if (!present.has(id)) this.lose(id, known.token);
    if (!rows.some((r) => r.id === this.id && r.token === this.token))
      this.evict('the lease row is gone or taken');
  }

  private lose(id: string, token: string): void {
    if (this.observed.get(id)?.token !== token) return;
    this.observed.delete(id);
    this.emit({ kind: 'lost', id, token });
  }

  private emit(event: MembershipEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.options.logger.warn(`instance ${this.id}: membership listener: ${errorMessage(err)}`);
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  private row(): InstancesTable {
    const now = this.options.clock.now();
    return {
      id: this.id,
      token: this.token,
      beats: 0,
      ttl_ms: this.options.ttlMs,
      host: this.options.host,
      pid: this.options.pid,
      started_at: now,
      heartbeat_at: now,
    };
  }

  private async read(): Promise<InstancesTable | undefined> {
    return this.db
      .selectFrom('sensflow_instances')
      .selectAll()
      .where('id', '=', this.id)
      .executeTakeFirst();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.options.clock.setTimeout(resolve, ms));
  }
}
