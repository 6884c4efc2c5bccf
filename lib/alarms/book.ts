// The alarm book: every rule-raised alarm of one store, one open alarm per
// (rule, device/location). Open alarms live in memory, so a reading decides
// a transition without a query; each transition is then written in order
// (alarm row and transition row in one transaction) and announced to
// listeners (the alarm-rules and alarm-control nodes). Rule engines, the REST
// API and the alarm-control node all act through the one book of a store.
//
// Shared by several instances (book-sync.ts), a transition is announced only
// once the store took it: the store refuses a second open alarm of a rule and
// subject, and a change to an alarm another instance changed first; the book
// then reloads that alarm, and reads the others' changes as they come.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import { Clock, systemClock, TimerHandle } from '../util/clock';
import { Logger, silentLogger } from '../util/log';
import {
  AlarmFilter,
  lastTransitionSeq,
  loadAlarm,
  loadLive,
  loadOpen,
  queryAlarms,
  queryTransitions,
  writeTransitions,
} from './book-store';
import { BookSync } from './book-sync';
import { AlarmError } from './errors';
import { Severity } from './format';
import {
  Alarm,
  apply,
  Cause,
  create,
  isActive,
  LifecycleError,
  NewAlarm,
  Step,
  Transition,
} from './lifecycle';
import { alarmMetrics } from './metrics';
import { PairMap } from './pair-map';
import { WriteQueue } from './write-queue';

export interface AlarmChange {
  alarm: Alarm;
  transition: Transition;
}

export type RaiseInput = Omit<NewAlarm, 'id' | 'shelvedUntil'> & { cause?: Cause };

export interface Actor {
  actor?: string | null;
  comment?: string | null;
}

export interface BookOptions {
  clock?: Clock;
  logger?: Logger;
  /** One of several instances writes this store: announce transitions once
   *  stored, and read the others' changes every `syncMs` (default 500). */
  shared?: boolean;
  syncMs?: number;
}

interface Settling {
  promise: Promise<boolean>;
  resolve(stored: boolean): void;
  /** The alarm's generation when decided: a reload makes later decisions stale. */
  generation: number;
}

export class AlarmBook {
  private readonly byId = new Map<string, Alarm>();
  private readonly byKey = new PairMap<Alarm>();
  /** Shelves that outlive a closed alarm: a new alarm on that key starts shelved. */
  private readonly shelves = new PairMap<{ until: number; by: string | null }>();
  private readonly shelveTimers = new Map<string, TimerHandle>();
  private readonly listeners = new Set<(change: AlarmChange) => void>();
  private readonly active = new Map<string, number>();
  private readonly writes: WriteQueue<AlarmChange>;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly settling = new WeakMap<AlarmChange, Settling>();
  private readonly generations = new Map<string, number>();
  private sync?: BookSync;

  private constructor(
    private readonly db: Kysely<Database>,
    private readonly options: BookOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.writes = new WriteQueue(
      (batch) => this.write(batch),
      this.clock,
      this.logger,
      'alarms',
      () => alarmMetrics.writeErrors.inc(),
    );
  }

  /** Opens the book of a store: loads open alarms and re-arms shelve timers. */
  static async open(db: Kysely<Database>, options: BookOptions = {}): Promise<AlarmBook> {
    const book = new AlarmBook(db, options);
    const since = options.shared ? await lastTransitionSeq(db) : 0;
    const { open, shelves } = await loadLive(db, book.clock.now());
    for (const alarm of open) {
      book.remember(alarm);
      book.count(alarm, +1);
    }
    for (const alarm of shelves) {
      const until = alarm.shelvedUntil!;
      if ((book.shelves.get(alarm.ruleId, alarm.subject)?.until ?? 0) < until)
        book.shelves.set(alarm.ruleId, alarm.subject, { until, by: alarm.shelvedBy });
    }
    alarmMetrics.setActive(book.active);
    if (options.shared) {
      book.sync = new BookSync(db, since, book.clock, book.logger, options.syncMs ?? 500, (a) =>
        book.replace(a.id, a, false),
      );
      book.sync.start((id, version) => (book.byId.get(id)?.version ?? 0) >= version);
    }
    return book;
  }

  /** Resolves true once the transition is in the store; false when another
   *  instance's change came first (then it was never announced). Without
   *  other instances, true at once. */
  confirmed(change: AlarmChange): Promise<boolean> {
    return this.settling.get(change)?.promise ?? Promise.resolve(true);
  }

  /** Reads the changes other instances made, now (before acting on an alarm). */
  async catchUp(): Promise<void> {
    await this.sync?.poll();
  }

  /** Calls `listener` with every transition from now on; returns the unsubscribe. */
  onChange(listener: (change: AlarmChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The open alarm of (rule, subject), if any. */
  findOpen(ruleId: string, subject: string): Alarm | undefined {
    return this.byKey.get(ruleId, subject);
  }

  /** Open alarms (in memory), optionally only some rules'. */
  openAlarms(filter?: (alarm: Alarm) => boolean): Alarm[] {
    const all = [...this.byId.values()];
    return filter ? all.filter(filter) : all;
  }

  // ------------------------------------------------------------ transitions

  /** Raises the alarm of (rule, subject): a new one, or a cleared one coming
   *  back. Null when it is already active. */
  raise(input: RaiseInput): AlarmChange | null {
    const at = this.clock.now();
    const step: Step = {
      event: 'raise',
      at,
      cause: input.cause ?? 'condition',
      value: input.value,
    };
    const existing = this.findOpen(input.ruleId, input.subject);
    if (existing) {
      if (isActive(existing.state)) return null;
      return this.commit(apply(existing, { ...step, event: 'reraise' }));
    }
    const shelf = this.shelves.get(input.ruleId, input.subject);
    if (shelf && shelf.until <= at) this.shelves.delete(input.ruleId, input.subject);
    const live = shelf && shelf.until > at ? shelf : undefined;
    const made = create({ ...input, id: randomUUID(), shelvedUntil: live?.until ?? null }, step);
    if (live) made.alarm.shelvedBy = live.by;
    return this.commit(made);
  }

  clear(id: string, how: Actor & { cause?: Cause; value?: number | null } = {}): AlarmChange {
    return this.step(id, {
      event: 'clear',
      cause: how.cause ?? 'manual',
      actor: how.actor,
      comment: how.comment,
      value: how.value,
    });
  }

  acknowledge(id: string, how: Actor = {}): AlarmChange {
    return this.step(id, { event: 'acknowledge', cause: 'manual', ...how });
  }

  escalate(id: string, severity: Severity, how: Actor & { cause?: Cause } = {}): AlarmChange {
    return this.step(id, { event: 'escalate', cause: how.cause ?? 'manual', severity, ...how });
  }

  shelve(id: string, durationMs: number, how: Actor = {}): AlarmChange {
    if (!Number.isFinite(durationMs) || durationMs <= 0)
      throw new AlarmError('invalid', 'a shelve duration must be a positive time');
    const until = this.clock.now() + durationMs;
    return this.step(id, { event: 'shelve', cause: 'manual', shelvedUntil: until, ...how });
  }

  unshelve(id: string, how: Actor & { cause?: Cause } = {}): AlarmChange {
    return this.step(id, { event: 'unshelve', cause: how.cause ?? 'manual', ...how });
  }

  private step(id: string, step: Omit<Step, 'at'>): AlarmChange {
    const alarm = this.byId.get(id);
    if (!alarm) {
      throw new AlarmError('not_found', `no open alarm ${id}`);
    }
    try {
      return this.commit(apply(alarm, { ...step, at: this.clock.now() }));
    } catch (err) {
      if (err instanceof LifecycleError) throw new AlarmError('conflict', err.message);
      throw err;
    }
  }

  private commit(change: AlarmChange): AlarmChange {
    const { alarm, transition } = change;
    const before = this.byId.get(alarm.id);
    if (before) this.forget(before);
    this.count(before, -1);
    this.count(alarm, +1);
    if (alarm.state !== 'closed') this.remember(alarm);
    else if (alarm.shelvedUntil !== null && alarm.shelvedUntil > transition.at) {
      this.shelves.set(alarm.ruleId, alarm.subject, {
        until: alarm.shelvedUntil,
        by: alarm.shelvedBy,
      });
    }
    if (this.options.shared) {
      let resolve!: (stored: boolean) => void;
      const promise = new Promise<boolean>((r) => (resolve = r));
      this.settling.set(change, { promise, resolve, generation: this.generationOf(alarm.id) });
    }
    this.writes.push(change);
    alarmMetrics.transitions.inc({ event: transition.event });
    alarmMetrics.setActive(this.active);
    if (!this.options.shared) this.announce(change);
    return change;
  }

  private announce(change: AlarmChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.logger.warn(`alarm listener failed: ${String(err)}`);
      }
    }
  }

  /** Writes a batch; shared, announces what the store took and reloads what it refused. */
  private async write(batch: AlarmChange[]): Promise<void> {
    if (!this.options.shared) {
      const refused = await writeTransitions(this.db, batch);
      if (refused.size > 0)
        this.logger.warn(
          `alarms changed in the store by someone else, not written: ${[...refused].join(', ')}`,
        );
      return;
    }
    // Decided before a reload of their alarm: never written.
    const current = batch.filter(
      (c) => this.settling.get(c)?.generation === this.generationOf(c.alarm.id),
    );
    const refused = await writeTransitions(this.db, current);
    const written = new Set(current.filter((c) => !refused.has(c.alarm.id)));
    // The store's version first, so a refused change's caller finds it in the book.
    for (const id of refused) {
      this.generations.set(id, this.generationOf(id) + 1);
      await this.reload(current.find((c) => c.alarm.id === id)!.alarm);
    }
    for (const change of batch) {
      const stored = written.has(change);
      this.settling.get(change)?.resolve(stored);
      if (!stored) continue;
      this.sync?.wrote(change.alarm.id, change.transition.version);
      this.announce(change);
    }
  }

  private generationOf(id: string): number {
    return this.generations.get(id) ?? 0;
  }

  /** After a refusal: the book takes the store's version of the alarm, and
   *  the open alarm of its rule and subject (which may be another's). */
  private async reload(alarm: Alarm): Promise<void> {
    const stored = await loadAlarm(this.db, alarm.id);
    const open = await loadOpen(this.db, alarm.ruleId, alarm.subject);
    this.replace(alarm.id, stored, true);
    if (open && open.id !== alarm.id) this.replace(open.id, open, true);
    this.logger.debug(`alarm ${alarm.id}: changed by another instance first, reloaded`);
  }

  /** Puts the store's version of an alarm in memory (none: forgets it), if
   *  newer than the book's or `force`d. Never announced: its instance did. */
  private replace(id: string, fresh: Alarm | null, force: boolean): void {
    const before = this.byId.get(id);
    if (before && fresh && !force && fresh.version <= before.version) return;
    if (before) {
      this.forget(before);
      this.count(before, -1);
    }
    if (fresh && fresh.state !== 'closed') {
      const other = this.byKey.get(fresh.ruleId, fresh.subject);
      if (other && other.id !== fresh.id) {
        // Ours, refused: the store holds the other one.
        this.forget(other);
        this.count(other, -1);
      }
      this.remember(fresh);
      this.count(fresh, +1);
    } else if (fresh?.shelvedUntil && fresh.shelvedUntil > this.clock.now()) {
      this.shelves.set(fresh.ruleId, fresh.subject, {
        until: fresh.shelvedUntil,
        by: fresh.shelvedBy,
      });
    }
    alarmMetrics.setActive(this.active);
  }

  private remember(alarm: Alarm): void {
    this.byId.set(alarm.id, alarm);
    this.byKey.set(alarm.ruleId, alarm.subject, alarm);
    if (alarm.shelvedUntil !== null) this.armShelve(alarm);
  }

  private forget(alarm: Alarm): void {
    this.byId.delete(alarm.id);
    this.byKey.delete(alarm.ruleId, alarm.subject);
    this.clock.clearTimeout(this.shelveTimers.get(alarm.id));
    this.shelveTimers.delete(alarm.id);
  }

  private armShelve(alarm: Alarm): void {
    const wait = Math.max(0, alarm.shelvedUntil! - this.clock.now());
    this.shelveTimers.set(
      alarm.id,
      this.clock.setTimeout(() => {
        this.shelveTimers.delete(alarm.id);
        const current = this.byId.get(alarm.id);
        if (current?.shelvedUntil !== null && current?.shelvedUntil !== undefined)
          this.unshelve(alarm.id, { cause: 'expired' });
      }, wait),
    );
  }

  /** Keeps the count of active alarms by severity (the gauge) as alarms change. */
  private count(alarm: Alarm | undefined, delta: number): void {
    if (!alarm || !isActive(alarm.state)) return;
    this.active.set(alarm.severity, (this.active.get(alarm.severity) ?? 0) + delta);
  }

  // ------------------------------------------------------------ queries

  /** Resolves when every transition so far is in the store. */
  flush(): Promise<void> {
    return this.writes.flush();
  }

  async get(id: string): Promise<Alarm> {
    const open = this.byId.get(id);
    if (open) return open;
    await this.flush();
    const stored = await loadAlarm(this.db, id);
    if (!stored) throw new AlarmError('not_found', `no alarm ${id}`);
    return stored;
  }

  async list(filter: AlarmFilter = {}): Promise<{ items: Alarm[]; total: number }> {
    await this.flush();
    return queryAlarms(this.db, filter);
  }

  async transitions(id: string): Promise<Transition[]> {
    await this.get(id);
    return queryTransitions(this.db, id);
  }

  /** Stops the timers and writes what is pending. */
  async close(): Promise<void> {
    this.sync?.stop();
    for (const timer of this.shelveTimers.values()) this.clock.clearTimeout(timer);
    this.shelveTimers.clear();
    this.listeners.clear();
    await this.writes.close();
  }
}
