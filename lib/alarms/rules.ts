// A validated rule file turned into what the engine runs: compiled checks for
// raising, clearing and escalating, the rule's filter (its top-level
// conditions on where a reading comes from), and the keys the index files it
// under. Clear and escalation conditions are checked with the filter in
// front, so a CO2 reading never clears a temperature alarm.
import { Check, compileRule, CompileError, Facts } from './compile';
import {
  ActionSpec,
  ConditionJson,
  LeafJson,
  NotifyChannel,
  parseDuration,
  RuleFileJson,
  RuleSpec,
  Severity,
} from './format';
import { OperatorLookup, SERIES_OPERATORS } from './operators';
import { RuleFileError, RuleProblem, validateRuleFile } from './validate';

/** Facts that say where a reading comes from: top-level conditions on them form a rule's filter. */
const FILTER_FACTS = new Set([
  'kind',
  'location',
  'deviceId',
  'customerId',
  'site',
  'outdoor',
  'building',
  'room',
]);

export interface CompiledEscalation {
  severity: Severity;
  afterMs?: number;
  when?: (facts: Facts) => boolean;
  /** The condition checked for `when`, filter included (json-rules-engine form). */
  whenJson?: ConditionJson;
}

export interface CompiledRule {
  /** `<rule set>/<rule name>`: the alarms' and rule state's key. */
  id: string;
  name: string;
  spec: RuleSpec;
  /** Load order; with `priority`, the order rules are handled in for one reading. */
  order: number;
  priority: number;
  /** Whether the rule looks at this reading at all (its filter passes). */
  admits: (facts: Facts) => boolean;
  matches: (facts: Facts) => boolean;
  /** Whether an active alarm clears on this reading (one the rule admits). */
  clears: (facts: Facts) => boolean;
  /** The clear condition, filter included (json-rules-engine form), when not "raise condition false". */
  clearJson?: ConditionJson;
  escalations: CompiledEscalation[];
  forMs: number;
  repeat: number;
  actions: ActionSpec[];
  notify: NotifyChannel[];
  /** Index keys: the kinds and locations the rule can match; null when any. */
  kinds: string[] | null;
  locations: string[] | null;
  /** Whether it reads the previous value of a series. */
  usesPrevious: boolean;
}

export interface RuleSet {
  name: string;
  file: string;
  rules: CompiledRule[];
}

/** The rules of one file, validated and compiled; throws a RuleFileError. */
export function compileRuleFile(
  text: string,
  file: string,
  setName: string,
  ops: OperatorLookup,
  firstOrder = 0,
): RuleSet {
  const json: RuleFileJson = validateRuleFile(text, file, ops);
  const problems: RuleProblem[] = [];
  const rules: CompiledRule[] = [];
  json.rules.forEach((spec, i) => {
    try {
      rules.push(compileOne(spec, setName, ops, firstOrder + i));
    } catch (err) {
      if (!(err instanceof CompileError)) throw err;
      problems.push({ file, rule: spec.name, path: err.path, message: err.message });
    }
  });
  if (problems.length > 0) throw new RuleFileError(problems);
  return { name: setName, file, rules };
}

function compileOne(spec: RuleSpec, set: string, ops: OperatorLookup, order: number): CompiledRule {
  const filter = filterOf(spec.conditions);
  const matches = compileRule(spec.conditions, ops, '/conditions');
  const admits =
    filter.length === 0 ? () => true : compileRule({ all: filter }, ops, '/conditions');
  let clearJson: ConditionJson | undefined;
  if (spec.clear) clearJson = withFilter(filter, spec.clear);
  else if (spec.hysteresis !== undefined)
    clearJson = withFilter(filter, { all: [hysteresisClear(spec.conditions, spec.hysteresis)] });
  const clearCheck: Check | undefined = clearJson && compileRule(clearJson, ops, '/clear');
  const escalations = (spec.escalate ?? []).map((e, i): CompiledEscalation => {
    if (e.after !== undefined) return { severity: e.severity, afterMs: parseDuration(e.after) };
    const whenJson = withFilter(filter, e.when!);
    const when = compileRule(whenJson, ops, `/escalate/${i}/when`);
    return { severity: e.severity, when: (facts) => Boolean(when(facts)), whenJson };
  });
  return {
    id: `${set}/${spec.name}`,
    name: spec.name,
    spec,
    order,
    priority: spec.priority ?? 1,
    admits,
    matches,
    clears: clearCheck ? (facts) => Boolean(clearCheck(facts)) : (facts) => !matches(facts),
    clearJson,
    escalations,
    forMs: spec.for === undefined ? 0 : parseDuration(spec.for),
    repeat: spec.repeat ?? 1,
    actions: spec.actions ?? [],
    notify: spec.notify ?? [],
    kinds: keysOf(filter, 'kind'),
    locations: keysOf(filter, 'location'),
    usesPrevious: [spec.conditions, spec.clear, ...(spec.escalate ?? []).map((e) => e.when)].some(
      (c) => c !== undefined && readsPrevious(c),
    ),
  };
}

/** The top-level `all` conditions on where a reading comes from. */
function filterOf(conditions: ConditionJson): LeafJson[] {
  if (!('all' in conditions)) return [];
  return conditions.all.filter(
    (c): c is LeafJson => 'fact' in c && FILTER_FACTS.has(c.fact) && !c.path,
  );
}

function withFilter(filter: LeafJson[], condition: ConditionJson): ConditionJson {
  if (filter.length === 0) return condition;
  return { all: [...filter, condition] };
}

/** The values a filter admits for `fact` (`equal` or `in` a literal), or null for any. */
function keysOf(filter: LeafJson[], fact: string): string[] | null {
  let keys: string[] | null = null;
  for (const leaf of filter) {
    if (leaf.fact !== fact) continue;
    let admitted: string[] | undefined;
    if (leaf.operator === 'equal' && typeof leaf.value === 'string') admitted = [leaf.value];
    if (
      leaf.operator === 'in' &&
      Array.isArray(leaf.value) &&
      leaf.value.every((v) => typeof v === 'string')
    )
      admitted = leaf.value as string[];
    if (!admitted) continue;
    // Two such conditions: a reading must pass both.
    keys = keys === null ? admitted : keys.filter((k) => admitted.includes(k));
  }
  return keys;
}

const ABOVE = new Set(['greaterThan', 'greaterThanInclusive', 'risingAbove']);
const BELOW = new Set(['lessThan', 'lessThanInclusive', 'fallingBelow']);

/** "value > X" with hysteresis h clears at "value < X - h" (and the mirror for "<"). */
function hysteresisClear(conditions: ConditionJson, h: number): LeafJson {
  const leaves: LeafJson[] = [];
  const visit = (c: ConditionJson) => {
    if ('all' in c) c.all.forEach(visit);
    else if ('fact' in c && c.fact === 'value' && !c.path && typeof c.value === 'number') {
      if (ABOVE.has(c.operator) || BELOW.has(c.operator)) leaves.push(c);
    }
  };
  visit(conditions);
  if (leaves.length !== 1) {
    throw new CompileError(
      'hysteresis needs exactly one threshold on "value" (greaterThan, lessThan, …) in the top-level "all"; write "clear" instead',
      '/hysteresis',
    );
  }
  const [leaf] = leaves;
  const level = leaf.value as number;
  return ABOVE.has(leaf.operator)
    ? { fact: 'value', operator: 'lessThan', value: level - h }
    : { fact: 'value', operator: 'greaterThan', value: level + h };
}

const SERIES = new Set<string>(SERIES_OPERATORS);

function readsPrevious(c: ConditionJson): boolean {
  if ('all' in c) return c.all.some(readsPrevious);
  if ('any' in c) return c.any.some(readsPrevious);
  if ('not' in c) return readsPrevious(c.not);
  const value = c.value as { fact?: unknown } | null;
  return (
    c.fact === 'previous' ||
    SERIES.has(c.operator.split(':').pop()!) ||
    (value != null && typeof value === 'object' && value.fact === 'previous')
  );
}

/** The json-rules-engine form of a rule (for a plain engine holding the same rules). */
export function engineRule(rule: CompiledRule) {
  return {
    name: rule.id,
    priority: rule.priority,
    conditions: rule.spec.conditions as never,
    event: { type: 'alarm', params: { rule: rule.id } },
  };
}
