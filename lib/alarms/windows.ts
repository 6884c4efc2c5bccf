// Pending alarms: a rule's condition holds for a (rule, subject) but `for`
// or `repeat` is not satisfied yet. The window's start and count are rule
// state (stored), so a restart in the middle of a `for` window resumes with
// the time already elapsed: the timer is re-armed for what is left.
import type { Clock, TimerHandle } from '../util/clock';
import type { Facts } from './compile';
import type { CompiledRule } from './rules';
import { PairMap } from './pair-map';
import type { RuleStateStore, StateRow } from './rule-state';

/** The facts an alarm raised by a timer needs (the last matching reading's). */
export interface SlotFacts {
  value?: number;
  kind?: string;
  location?: string;
  deviceId?: string;
  customerId?: string;
}

export interface Slot {
  /** When the condition started to hold (epoch ms). */
  since: number;
  /** Matching readings in a row. */
  count: number;
  facts: SlotFacts;
}

function slotFacts(facts: Facts): SlotFacts {
  const pick = (k: string) => (facts[k] === undefined ? undefined : facts[k]);
  return {
    value: pick('value') as number | undefined,
    kind: pick('kind') as string | undefined,
    location: pick('location') as string | undefined,
    deviceId: pick('deviceId') as string | undefined,
    customerId: pick('customerId') as string | undefined,
  };
}

export class Windows {
  private readonly slots = new PairMap<Slot>();
  private readonly timers = new PairMap<TimerHandle>();

  constructor(
    private readonly state: RuleStateStore,
    private readonly clock: Clock,
    /** Called when a `for` window has lasted long enough. */
    private readonly onDue: (ruleId: string, subject: string, slot: Slot) => void,
  ) {}

  /** Takes stored windows (rows whose data is a slot). */
  restore(rows: StateRow[]): void {
    for (const { ruleId, subject, data } of rows) {
      const slot = data as Slot;
      if (typeof slot?.since === 'number' && typeof slot.count === 'number')
        this.slots.set(ruleId, subject, slot);
    }
  }

  get(ruleId: string, subject: string): Slot | undefined {
    return this.slots.get(ruleId, subject);
  }

  /** A matching reading: opens or extends the window. */
  hit(rule: CompiledRule, subject: string, facts: Facts): Slot {
    const entry = this.slots.get(rule.id, subject);
    const slot: Slot = entry
      ? { ...entry, count: entry.count + 1, facts: slotFacts(facts) }
      : { since: this.clock.now(), count: 1, facts: slotFacts(facts) };
    this.slots.set(rule.id, subject, slot);
    this.state.set(rule.id, subject, slot);
    if (rule.forMs > 0 && !this.timers.has(rule.id, subject)) this.arm(rule, subject, slot);
    return slot;
  }

  /** The condition stopped holding, or the alarm was raised or cleared: the window closes. */
  reset(ruleId: string, subject: string): void {
    if (!this.slots.delete(ruleId, subject)) return;
    this.clock.clearTimeout(this.timers.get(ruleId, subject));
    this.timers.delete(ruleId, subject);
    this.state.set(ruleId, subject, null);
  }

  /** After the rules changed: drops windows of rules that are gone, re-arms the others. */
  rearm(rules: Map<string, CompiledRule>): void {
    for (const timer of this.timers.values()) this.clock.clearTimeout(timer);
    this.timers.clear();
    for (const [ruleId, subject, slot] of [...this.slots.entries()]) {
      const rule = rules.get(ruleId);
      if (!rule) {
        this.slots.delete(ruleId, subject);
        this.state.set(ruleId, subject, null);
      } else if (rule.forMs > 0) this.arm(rule, subject, slot);
    }
  }

  private arm(rule: CompiledRule, subject: string, slot: Slot): void {
    const wait = Math.max(0, slot.since + rule.forMs - this.clock.now());
    this.timers.set(
      rule.id,
      subject,
      this.clock.setTimeout(() => {
        this.timers.delete(rule.id, subject);
        const current = this.slots.get(rule.id, subject);
        if (current) this.onDue(rule.id, subject, current);
      }, wait),
    );
  }

  close(): void {
    for (const timer of this.timers.values()) this.clock.clearTimeout(timer);
    this.timers.clear();
  }
}
