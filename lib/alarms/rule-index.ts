// Which rules a reading can affect. A rule whose filter says `kind equal
// temperature` (or `in [...]`) cannot match a CO2 reading, so it is filed
// under its kinds and locations and never evaluated for others; rules without
// such a filter are filed under "any". Skipping is exact, never a guess: a
// skipped rule is one json-rules-engine would find false.
import { PairMap } from './pair-map';
import type { CompiledRule } from './rules';

const ANY = '\u0000any';
const CACHE_LIMIT = 20_000;

type ByLocation = Map<string, CompiledRule[]>;

export class RuleIndex {
  private readonly byKind = new Map<string, ByLocation>();
  private readonly cache = new PairMap<CompiledRule[]>();

  constructor(readonly rules: CompiledRule[]) {
    for (const rule of rules) {
      for (const kind of rule.kinds ?? [ANY]) {
        let byLocation = this.byKind.get(kind);
        if (!byLocation) this.byKind.set(kind, (byLocation = new Map()));
        for (const location of rule.locations ?? [ANY]) {
          const list = byLocation.get(location);
          if (list) list.push(rule);
          else byLocation.set(location, [rule]);
        }
      }
    }
  }

  /** The rules to evaluate for a reading, by priority (highest first) then file order. */
  candidates(kind: unknown, location: unknown): CompiledRule[] {
    const k = typeof kind === 'string' ? kind : '';
    const l = typeof location === 'string' ? location : '';
    let found = this.cache.get(k, l);
    if (!found) {
      found = this.collect(k, l);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(k, l, found);
    }
    return found;
  }

  private collect(kind: string, location: string): CompiledRule[] {
    const found = new Set<CompiledRule>();
    for (const byLocation of [this.byKind.get(kind), this.byKind.get(ANY)]) {
      if (!byLocation) continue;
      for (const list of [byLocation.get(location), byLocation.get(ANY)]) {
        for (const rule of list ?? []) found.add(rule);
      }
    }
    return [...found].sort((a, b) => b.priority - a.priority || a.order - b.order);
  }
}
