// One alarm engine per alarm-rules node, for the node's whole life: its
// rules (replaced on reload, never rebuilt per message), the index that picks
// the rules a reading can affect, the pending `for`/`repeat` windows, and
// the alarms' transitions through the shared book. A reading from a known
// device or location is evaluated synchronously; only a registry lookup or
// a stored-state load makes it wait, and readings then keep their order.
import type { Engine } from 'json-rules-engine';
import type { DeviceDirectory } from '../registry/directory';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import { Clock, systemClock, TimerHandle } from '../util/clock';
import { errorMessage, Logger, silentLogger } from '../util/log';
import { ActionOutcome, commandsFor } from './actions';
import type { AlarmBook, AlarmChange } from './book';
import type { Facts } from './compile';
import { DeviceFacts } from './device-facts';
import { severityRank } from './format';
import { isActive } from './lifecycle';
import { alarmMetrics } from './metrics';
import { operatorsOf, OperatorLookup, sensflowEngine, series as seriesContext } from './operators';
import { IgnoredReason, placeOf, ReadingMessage, readingFrom } from './readings';
import { RuleIndex } from './rule-index';
import { RuleStateStore } from './rule-state';
import { CompiledRule, engineRule, RuleSet } from './rules';
import { PairMap } from './pair-map';
import { Serial } from './serial';
import { Slot, Windows } from './windows';

/** A series' previous value is rule state under `#series:<kind>`, subject the device or location. */
const SERIES = '#series:';

export interface EngineOptions {
  db: Kysely<Database>;
  book: AlarmBook;
  directory?: DeviceDirectory;
  clock?: Clock;
  logger?: Logger;
  /** The default site of topics (SENSFLOW_SITE). */
  defaultSite?: string;
  /** How often rule state is written behind. */
  stateFlushMs?: number;
  /** Every transition of this engine's alarms (from readings, timers, the API or flows). */
  onChange?: (change: AlarmChange, rule: CompiledRule | undefined) => void;
  /** Commands of raise/clear actions, and refused ones. */
  onAction?: (outcome: ActionOutcome) => void;
}

export interface Evaluation {
  ignored?: IgnoredReason;
  facts?: Facts;
  /** Rules evaluated (those the index picked and whose filter admits the reading). */
  evaluated: number;
  /** Ids of rules whose condition matched, in evaluation order. */
  matched: string[];
  /** Transitions this reading caused. */
  changes: AlarmChange[];
}

export class AlarmEngine {
  /** The engine whose operators (json-rules-engine's and Sensflow's) the rules use. */
  readonly engine: Engine;
  readonly ops: OperatorLookup;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly defaultSite: string;
  private readonly state: RuleStateStore;
  private readonly windows: Windows;
  private readonly registry?: DeviceFacts;
  private readonly serial = new Serial();
  private readonly series = new PairMap<number>();
  private readonly seriesIds = new Map<string, string>();
  private readonly escalationTimers = new Set<TimerHandle>();
  private readonly unwatchBook: () => void;
  private sets: RuleSet[] = [];
  private engineRules: string[] = [];
  private rules = new Map<string, CompiledRule>();
  private index = new RuleIndex([]);
  private usesPrevious = false;
  private seriesLoaded = false;
  private readonly loadedSets = new Set<string>();
  private actions: Promise<void> = Promise.resolve();

  constructor(private readonly options: EngineOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.defaultSite = options.defaultSite ?? 'UT3';
    this.engine = sensflowEngine();
    this.ops = operatorsOf(this.engine);
    this.state = new RuleStateStore(options.db, this.clock, this.logger, options.stateFlushMs);
    this.windows = new Windows(this.state, this.clock, (ruleId, subject, slot) =>
      this.due(ruleId, subject, slot),
    );
    this.registry = options.directory ? new DeviceFacts(options.directory) : undefined;
    this.unwatchBook = options.book.onChange((change) => this.changed(change));
  }

  get ruleSets(): readonly RuleSet[] {
    return this.sets;
  }

  /** Replaces the rules (all sets at once), loading the stored state of new sets. */
  async setRules(sets: RuleSet[]): Promise<void> {
    await this.serial.run(() => this.replaceRules(sets));
  }

  private async replaceRules(sets: RuleSet[]): Promise<void> {
    for (const set of sets) {
      if (this.loadedSets.has(set.name)) continue;
      this.windows.restore(await this.state.load(`${set.name}/`));
      this.loadedSets.add(set.name);
    }
    const rules = sets.flatMap((s) => s.rules);
    this.usesPrevious = rules.some((r) => r.usesPrevious);
    if (this.usesPrevious && !this.seriesLoaded) {
      for (const row of await this.state.load(SERIES)) {
        const value = (row.data as { value?: unknown }).value;
        if (typeof value === 'number') this.series.set(row.ruleId, row.subject, value);
      }
      this.seriesLoaded = true;
    }
    this.sets = sets;
    this.rules = new Map(rules.map((r) => [r.id, r]));
    this.index = new RuleIndex(rules);
    // The engine holds the same rules, for an exact json-rules-engine run (crossCheck).
    for (const rule of this.engineRules) this.engine.removeRule(rule);
    this.engineRules = rules.map((r) => r.id);
    for (const rule of rules) this.engine.addRule(engineRule(rule));
    this.windows.rearm(this.rules);
    this.armEscalations();
  }

  /** Evaluates one message; resolves (or returns, when nothing had to wait) its evaluation. */
  handle(msg: ReadingMessage): Evaluation | Promise<Evaluation> {
    // The common case first: nothing waiting, so no task to queue.
    if (!this.serial.busy) {
      const result = this.process(msg);
      return result instanceof Promise ? this.serial.run(() => result) : result;
    }
    return this.serial.run(() => this.process(msg));
  }

  private process(msg: ReadingMessage): Evaluation | Promise<Evaluation> {
    const parsed = readingFrom(msg, this.defaultSite);
    if ('ignored' in parsed) {
      alarmMetrics.ignored.inc({ reason: parsed.ignored });
      return { ignored: parsed.ignored, evaluated: 0, matched: [], changes: [] };
    }
    const { facts } = parsed.reading;
    const waiting = this.registry?.enrich(facts);
    if (waiting) return waiting.then(() => this.evaluate(facts));
    return this.evaluate(facts);
  }

  /** Evaluates a reading's facts against the rules it can affect, and steps their alarms. */
  private evaluate(facts: Facts): Evaluation {
    const started = performance.now();
    // Where a device's reading comes from, when only the registry said it.
    if (facts.site === undefined && typeof facts.location === 'string')
      Object.assign(facts, placeOf(facts.location, this.defaultSite));
    // A series: the same kind at the same device (or location).
    const seriesId = this.usesPrevious ? this.seriesId(facts.kind) : undefined;
    const seriesOf = String(facts.deviceId ?? facts.location ?? '');
    if (seriesId) facts.previous = this.series.get(seriesId, seriesOf);
    seriesContext.previous = facts.previous;
    const result: Evaluation = { facts, evaluated: 0, matched: [], changes: [] };
    for (const rule of this.index.candidates(facts.kind, facts.location)) {
      let matched: boolean;
      try {
        if (!rule.admits(facts)) continue;
        result.evaluated++;
        matched = rule.matches(facts);
      } catch (err) {
        alarmMetrics.conditionErrors.inc();
        this.logger.debug(`rule ${rule.id}: condition failed: ${errorMessage(err)}`);
        continue;
      }
      if (matched) result.matched.push(rule.id);
      this.step(rule, facts, matched, result.changes);
    }
    if (seriesId && typeof facts.value === 'number') {
      this.series.set(seriesId, seriesOf, facts.value);
      this.state.set(seriesId, seriesOf, { value: facts.value });
    }
    alarmMetrics.evaluation.observe((performance.now() - started) / 1000);
    return result;
  }

  private step(rule: CompiledRule, facts: Facts, matched: boolean, changes: AlarmChange[]): void {
    const subject = subjectOf(rule, facts);
    const alarm = this.options.book.findOpen(rule.id, subject);
    const value = typeof facts.value === 'number' ? facts.value : null;
    if (alarm && isActive(alarm.state)) {
      for (const escalation of rule.escalations) {
        const current = this.options.book.findOpen(rule.id, subject)!;
        if (!escalation.when || severityRank(escalation.severity) <= severityRank(current.severity))
          continue;
        if (safely(() => escalation.when!(facts)))
          changes.push(
            this.options.book.escalate(alarm.id, escalation.severity, { cause: 'condition' }),
          );
      }
      if (safely(() => rule.clears(facts))) {
        const change = this.options.book.clear(alarm.id, { cause: 'condition', value });
        changes.push(change);
        this.act(rule, change, facts, 'clear');
      }
      return;
    }
    if (!matched) {
      this.windows.reset(rule.id, subject);
      return;
    }
    const slot = this.windows.hit(rule, subject, facts);
    if (slot.count >= rule.repeat && this.clock.now() - slot.since >= rule.forMs) {
      const change = this.raise(rule, subject, slot);
      if (change) changes.push(change);
    }
  }

  private seriesId(kind: unknown): string {
    const k = String(kind ?? '');
    let id = this.seriesIds.get(k);
    if (!id) this.seriesIds.set(k, (id = `${SERIES}${k}`));
    return id;
  }

  /** A `for` window lasted long enough (timer). */
  private due(ruleId: string, subject: string, slot: Slot): void {
    const rule = this.rules.get(ruleId);
    if (!rule || slot.count < rule.repeat) return;
    this.raise(rule, subject, slot);
  }

  private raise(rule: CompiledRule, subject: string, slot: Slot): AlarmChange | null {
    this.windows.reset(rule.id, subject);
    const f = slot.facts;
    const change = this.options.book.raise({
      ruleId: rule.id,
      subject,
      name: rule.spec.alarm,
      severity: rule.spec.severity,
      deviceId: f.deviceId ?? null,
      location: f.location ?? null,
      kind: f.kind ?? null,
      customerId: f.customerId ?? null,
      value: f.value ?? null,
      cause: 'condition',
    });
    if (change) {
      this.act(rule, change, f as Facts, 'raise');
      this.armEscalationsOf(rule, change.alarm.id, change.transition.at);
    }
    return change;
  }

  /** Runs a rule's actions for a transition, in order, after the target checks. */
  private act(rule: CompiledRule, change: AlarmChange, facts: Facts, on: 'raise' | 'clear'): void {
    if (!rule.actions.some((a) => a.on === on)) return;
    const snapshot = { location: facts.location };
    this.actions = this.actions
      .then(async () => {
        // Shared with other instances: only the one whose transition was stored acts.
        if (!(await this.options.book.confirmed(change))) return;
        const outcomes = await commandsFor(rule.actions, on, change.alarm, snapshot, this.registry);
        for (const outcome of outcomes) {
          if ('refused' in outcome) {
            alarmMetrics.refused.inc();
            this.logger.warn(`rule ${rule.id}: action refused: ${outcome.refused}`);
          }
          this.options.onAction?.(outcome);
        }
      })
      .catch((err: unknown) => this.logger.error(`rule ${rule.id}: actions: ${errorMessage(err)}`));
  }

  /** Time-based escalations of the open alarms of the current rules. */
  private armEscalations(): void {
    for (const timer of this.escalationTimers) this.clock.clearTimeout(timer);
    this.escalationTimers.clear();
    for (const alarm of this.options.book.openAlarms((a) => this.rules.has(a.ruleId))) {
      if (alarm.state === 'active_unack')
        this.armEscalationsOf(this.rules.get(alarm.ruleId)!, alarm.id, alarm.raisedAt);
    }
  }

  private armEscalationsOf(rule: CompiledRule, alarmId: string, from: number): void {
    for (const escalation of rule.escalations) {
      if (escalation.afterMs === undefined) continue;
      const timer = this.clock.setTimeout(
        () => {
          this.escalationTimers.delete(timer);
          const alarm = this.options.book.openAlarms((a) => a.id === alarmId)[0];
          if (
            alarm?.state === 'active_unack' &&
            severityRank(escalation.severity) > severityRank(alarm.severity)
          )
            this.options.book.escalate(alarm.id, escalation.severity, { cause: 'timer' });
        },
        Math.max(0, from + escalation.afterMs - this.clock.now()),
      );
      this.escalationTimers.add(timer);
    }
  }

  /** Every transition in the book: this engine's alarms go out; a manual clear restarts windows. */
  private changed(change: AlarmChange): void {
    const rule = this.rules.get(change.alarm.ruleId);
    if (!rule) return;
    if (change.transition.event === 'clear' && change.transition.cause === 'manual')
      this.windows.reset(rule.id, change.alarm.subject);
    this.options.onChange?.(change, rule);
  }

  /** The rules json-rules-engine itself finds true for these facts (the
   *  same facts an evaluation saw, `previous` included): a cross-check. */
  async crossCheck(facts: Facts): Promise<string[]> {
    seriesContext.previous = facts.previous;
    const { results } = await this.engine.run(facts);
    return results.map((r) => r.name as string);
  }

  /** Resolves when every command of the transitions so far went out. */
  async settle(): Promise<void> {
    await this.serial.idle();
    await this.actions;
  }

  /** Stops timers and writes rule state; the book (shared) stays open. */
  async close(): Promise<void> {
    this.unwatchBook();
    await this.settle();
    this.windows.close();
    for (const timer of this.escalationTimers) this.clock.clearTimeout(timer);
    this.escalationTimers.clear();
    this.registry?.close();
    await this.state.close();
  }
}

function safely(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    alarmMetrics.conditionErrors.inc();
    return false;
  }
}

/** One alarm per (rule, device) or (rule, location). */
function subjectOf(rule: CompiledRule, facts: Facts): string {
  const device = typeof facts.deviceId === 'string' ? facts.deviceId : undefined;
  const location = typeof facts.location === 'string' ? facts.location : undefined;
  const subject = rule.spec.per === 'location' ? (location ?? device) : (device ?? location);
  return subject ?? '-';
}
