// Who listens to what, per customer: `SUB|name` asks for the alarms called
// `name`; `SUB|name|>30` also asks for the READING of sensor `name` each time
// a device's value crosses into the condition (from outside it, or unknown).
// Subscriptions belong to a device's connection: it subscribes again after it
// logs in, as the seed's devices do.

export type Operator = '>' | '>=' | '<' | '<=' | '=' | '!=';

export interface Condition {
  op: Operator;
  value: number;
}

const CONDITION = /^\s*(>=|<=|!=|==|=|>|<)\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*$/;

/** The condition of a SUB (undefined when empty); throws on anything else. */
export function parseCondition(text: string | undefined): Condition | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const m = CONDITION.exec(text);
  if (!m) throw new Error(`condition "${text}" is not an operator and a number, e.g. >30`);
  return { op: (m[1] === '==' ? '=' : m[1]) as Operator, value: Number(m[2]) };
}

/** A reading's numeric value, or undefined when it is not a number. */
export function numericValue(text: string): number | undefined {
  if (!/^\s*-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\s*$/.test(text)) return undefined;
  return Number(text);
}

export function holds(condition: Condition, value: number): boolean {
  switch (condition.op) {
    case '>':
      return value > condition.value;
    case '>=':
      return value >= condition.value;
    case '<':
      return value < condition.value;
    case '<=':
      return value <= condition.value;
    case '=':
      return value === condition.value;
    case '!=':
      return value !== condition.value;
  }
}

interface Subscription {
  condition?: Condition;
  /** Per source device: whether its last value held the condition. */
  inside?: Map<string, boolean>;
}

export class Subscriptions {
  /** customer → name → subscriber id → subscription */
  private readonly byCustomer = new Map<string, Map<string, Map<string, Subscription>>>();

  subscribe(customer: string, subscriber: string, name: string, condition?: Condition): void {
    let names = this.byCustomer.get(customer);
    if (!names) this.byCustomer.set(customer, (names = new Map()));
    let subs = names.get(name);
    if (!subs) names.set(name, (subs = new Map()));
    subs.set(subscriber, { condition });
  }

  unsubscribe(customer: string, subscriber: string, name: string): void {
    const names = this.byCustomer.get(customer);
    const subs = names?.get(name);
    if (!names || !subs) return;
    subs.delete(subscriber);
    if (subs.size === 0) names.delete(name);
    if (names.size === 0) this.byCustomer.delete(customer);
  }

  /** Ends every subscription of `subscriber` (its connection closed); true when it had some. */
  removeAll(customer: string, subscriber: string): boolean {
    const names = this.byCustomer.get(customer);
    if (!names) return false;
    let had = false;
    for (const [name, subs] of [...names]) {
      if (!subs.has(subscriber)) continue;
      had = true;
      this.unsubscribe(customer, subscriber, name);
    }
    return had;
  }

  /** `customer\0sensor` for every subscription with a condition (readings other
   *  instances must send here). */
  conditionKeys(): string[] {
    const keys: string[] = [];
    for (const [customer, names] of this.byCustomer)
      for (const [name, subs] of names)
        if ([...subs.values()].some((s) => s.condition)) keys.push(`${customer}\u0000${name}`);
    return keys;
  }

  /** Devices subscribed to alarm `name`. */
  alarmSubscribers(customer: string, name: string): string[] {
    const subs = this.byCustomer.get(customer)?.get(name);
    return subs ? [...subs.keys()] : [];
  }

  /** Subscribers for whom this reading of `sensor` by `source` crosses into their condition. */
  crossings(customer: string, source: string, sensor: string, value: string): string[] {
    const subs = this.byCustomer.get(customer)?.get(sensor);
    if (!subs) return [];
    const number = numericValue(value);
    if (number === undefined) return [];
    const crossed: string[] = [];
    for (const [subscriber, sub] of subs) {
      if (!sub.condition) continue;
      sub.inside ??= new Map();
      const now = holds(sub.condition, number);
      if (now && sub.inside.get(source) !== true) crossed.push(subscriber);
      sub.inside.set(source, now);
    }
    return crossed;
  }

  /** Subscriptions held now (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const names of this.byCustomer.values()) for (const subs of names.values()) n += subs.size;
    return n;
  }
}
