// json-rules-engine conditions compiled into plain synchronous checks, so a
// reading costs a few function calls instead of an engine run (an almanac,
// facts and promises per rule). The semantics are json-rules-engine 7's,
// step by step (rule.js, condition.js, almanac.js): operators are the
// engine's own objects (decorators included), `path` goes through its
// JSONPath resolver, `value: {fact}` reads another fact, `all`/`any` of one
// condition pass its raw result up while longer lists count only `=== true`,
// and an empty `all` or `any` is true. The differential test holds this
// equal to a plain engine run on random rules and readings.
import { Almanac } from 'json-rules-engine';
import type { ConditionJson, LeafJson } from './format';
import type { OperatorLookup } from './operators';

export type Facts = Record<string, unknown>;
/** A condition's raw result, as json-rules-engine would compute it. */
export type Check = (facts: Facts) => unknown;

type PathResolver = (value: object, path: string) => unknown;
const resolvePath: PathResolver = (new Almanac() as unknown as { pathResolver: PathResolver })
  .pathResolver;

export class CompileError extends Error {
  constructor(
    message: string,
    /** JSON pointer of the condition at fault, relative to the rule. */
    readonly path: string,
  ) {
    super(message);
    this.name = 'CompileError';
  }
}

export function isFactReference(value: unknown): value is { fact: string; path?: string } {
  return (
    value != null &&
    typeof value === 'object' &&
    Object.prototype.hasOwnProperty.call(value, 'fact')
  );
}

function read(fact: string, path: string | undefined): Check {
  if (!path) return (facts) => facts[fact];
  return (facts) => {
    const value = facts[fact];
    // Like the almanac: a path into something that is not an object gives the value itself.
    return value != null && typeof value === 'object' ? resolvePath(value, path) : value;
  };
}

function compileLeaf(leaf: LeafJson, ops: OperatorLookup, at: string): Check {
  const op = ops.get(leaf.operator);
  if (!op) throw new CompileError(`unknown operator "${leaf.operator}"`, `${at}/operator`);
  const left = read(leaf.fact, leaf.path);
  const value = leaf.value;
  if (isFactReference(value)) {
    const right = read(value.fact, value.path);
    return (facts) => op.evaluate(left(facts), right(facts));
  }
  return (facts) => op.evaluate(left(facts), value);
}

/** A boolean condition nested in another: json-rules-engine keeps only `=== true`. */
function nested(condition: ConditionJson, ops: OperatorLookup, at: string): Check {
  if ('fact' in condition) return compileLeaf(condition, ops, at);
  const check = compileCondition(condition, ops, at);
  return (facts) => check(facts) === true;
}

function list(
  items: ConditionJson[],
  ops: OperatorLookup,
  at: string,
  method: 'every' | 'some',
): Check {
  if (items.length === 0) return () => true;
  const checks = items.map((c, i) => nested(c, ops, `${at}/${i}`));
  if (checks.length === 1) return checks[0];
  if (method === 'every') return (facts) => checks.every((check) => check(facts) === true);
  return (facts) => checks.some((check) => check(facts) === true);
}

/** Compiles a rule's top-level condition; `at` prefixes error paths. */
export function compileCondition(condition: ConditionJson, ops: OperatorLookup, at = ''): Check {
  if ('all' in condition) return list(condition.all, ops, `${at}/all`, 'every');
  if ('any' in condition) return list(condition.any, ops, `${at}/any`, 'some');
  if ('not' in condition) {
    const inner = nested(condition.not, ops, `${at}/not`);
    return (facts) => !inner(facts);
  }
  if ('fact' in condition) return compileLeaf(condition, ops, at);
  throw new CompileError('a condition needs one of all, any, not or fact', at || '/');
}

/** A rule matches when its top-level result is truthy (json-rules-engine's `results`). */
export function compileRule(
  condition: ConditionJson,
  ops: OperatorLookup,
  at = '',
): (facts: Facts) => boolean {
  const check = compileCondition(condition, ops, at);
  return (facts) => Boolean(check(facts));
}
