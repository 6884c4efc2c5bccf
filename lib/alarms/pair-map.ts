// A map keyed by two strings, as nested maps. Readings look alarms and
// windows up by (rule, subject) many times a second; joining the two into
// one key would build and hash a new string on every lookup, where nested
// maps hash strings that already exist (and V8 keeps their hash).
export class PairMap<V> {
  private readonly outer = new Map<string, Map<string, V>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(a: string, b: string): V | undefined {
    return this.outer.get(a)?.get(b);
  }

  has(a: string, b: string): boolean {
    return this.outer.get(a)?.has(b) ?? false;
  }

  set(a: string, b: string, value: V): void {
    let inner = this.outer.get(a);
    if (!inner) this.outer.set(a, (inner = new Map()));
    if (!inner.has(b)) this.count++;
    inner.set(b, value);
  }

  delete(a: string, b: string): boolean {
    const inner = this.outer.get(a);
    if (!inner?.delete(b)) return false;
    this.count--;
    if (inner.size === 0) this.outer.delete(a);
    return true;
  }

  clear(): void {
    this.outer.clear();
    this.count = 0;
  }

  *entries(): IterableIterator<[string, string, V]> {
    for (const [a, inner] of this.outer) for (const [b, v] of inner) yield [a, b, v];
  }

  *values(): IterableIterator<V> {
    for (const inner of this.outer.values()) yield* inner.values();
  }
}
