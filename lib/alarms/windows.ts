// Pending alarms: a rule's condition holds for a (rule, subject) but `for`
// or `repeat` is not satisfied yet. The window's start and count are rule
// state (stored), so a restart in the middle of a `for` window resumes with
// the time already elapsed: the timer is re-armed for what is left.
import type { Clock, TimerHandle } from '../util/clock';
import type { Facts } from './compile';
import type { CompiledRule } from './rules';
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

const keyOf = (ruleId: string, subject: string) => `${ruleId}\u0000${subject}`;

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
  private readonly slots = new Map<string, { ruleId: string; subject: string; slot: Slot }>();
  private readonly timers = new Map<string, TimerHandle>();

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
        this.slots.set(keyOf(ruleId, subject), { ruleId, subject, slot });
    }
  }

  get(ruleId: string, subject: string): Slot | undefined {
    return this.slots.get(keyOf(ruleId, subject))?.slot;
  }

  /** A matching reading: opens or extends the window. */
  hit(rule: CompiledRule, subject: string, facts: Facts): Slot {
    const key = keyOf(rule.id, subject);
    const entry = this.slots.get(key);
    const slot: Slot = entry
      ? { ...entry.slot, count: entry.slot.count + 1, facts: slotFacts(facts) }
      : { since: this.clock.now(), count: 1, facts: slotFacts(facts) };
    this.slots.set(key, { ruleId: rule.id, subject, slot });
    this.state.set(rule.id, subject, slot);
    if (rule.forMs > 0 && !this.timers.has(key)) this.arm(rule, subject, slot);
    return slot;
  }

  /** The condition stopped holding, or the alarm was raised or cleared: the window closes. */
  reset(ruleId: string, subject: string): void {
    const key = keyOf(ruleId, subject);
    if (!this.slots.delete(key)) return;
    this.clock.clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.state.set(ruleId, subject, null);
  }

  /** After the rules changed: drops windows of rules that are gone, re-arms the others. */
  rearm(rules: Map<string, CompiledRule>): void {
    for (const timer of this.timers.values()) this.clock.clearTimeout(timer);
    this.timers.clear();
    for (const [key, { ruleId, subject, slot }] of [...this.slots]) {
      const rule = rules.get(ruleId);
      if (!rule) {
        this.slots.delete(key);
        this.state.set(ruleId, subject, null);
      } else if (rule.forMs > 0) this.arm(rule, subject, slot);
    }
  }

  /** Forgets the windows of rules whose set is no longer loaded (kept in the store). */
  forgetSet(set: string): void {
    for (const [key, { ruleId }] of [...this.slots]) {
      if (ruleId.startsWith(`${set}/`)) {
        this.slots.delete(key);
        this.clock.clearTimeout(this.timers.get(key));
        this.timers.delete(key);
      }
    }
  }

  private arm(rule: CompiledRule, subject: string, slot: Slot): void {
    const key = keyOf(rule.id, subject);
    const wait = Math.max(0, slot.since + rule.forMs - this.clock.now());
    this.timers.set(
      key,
      this.clock.setTimeout(() => {
        this.timers.delete(key);
        const current = this.slots.get(key);
        if (current) this.onDue(rule.id, subject, current.slot);
      }, wait),
    );
  }

  close(): void {
    for (const timer of this.timers.values()) this.clock.clearTimeout(timer);
    this.timers.clear();
  }
}
