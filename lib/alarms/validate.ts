// Validation of a rule file: the JSON Schema (ajv), then what only the engine
// knows (operator names, decorators) and what the schema cannot say (one
// condition kind per object, operands of `between` and `in`, series operators
// on `value`). Every problem names the file, the rule and the JSON path, so
// the editor and the node status can say exactly what to fix.
import Ajv, { ErrorObject } from 'ajv';
import { Engine } from 'json-rules-engine';
import { isFactReference } from './compile';
import type { ConditionJson, RuleFileJson, RuleSpec } from './format';
import { OperatorLookup, SERIES_OPERATORS } from './operators';
import { FACTS, ruleFileSchema } from './rule-schema';

export interface RuleProblem {
  file: string;
  /** The rule's name, or `rules[i]` when it has none; absent for file-level problems. */
  rule?: string;
  /** JSON pointer inside the rule (or the file, for file-level problems). */
  path: string;
  message: string;
}

export function describeProblem(p: RuleProblem): string {
  const where = p.rule ? `rule "${p.rule}" ${p.path || '/'}` : p.path || '/';
  return `${p.file}: ${where}: ${p.message}`;
}

export class RuleFileError extends Error {
  constructor(readonly problems: RuleProblem[]) {
    super(
      problems.length === 1
        ? describeProblem(problems[0])
        : `${describeProblem(problems[0])} (and ${problems.length - 1} more)`,
    );
    this.name = 'RuleFileError';
  }
}

const ajv = new Ajv({ allErrors: true, strictTypes: false });
const validateSchema = ajv.compile<RuleFileJson>(ruleFileSchema);
const KNOWN_FACTS = new Set<string>(FACTS);
const SERIES = new Set<string>(SERIES_OPERATORS);

function messageOf(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `unknown property "${String(params.additionalProperty)}"`;
    case 'enum':
      if (error.instancePath.endsWith('/fact')) return `unknown fact (known: ${FACTS.join(', ')})`;
      return `must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'required':
      return `missing "${String(params.missingProperty)}"`;
    default:
      return error.message ?? error.keyword;
  }
}

/** Splits a file-level pointer into the rule it falls in and the path inside it. */
function locate(json: unknown, pointer: string): { rule?: string; path: string } {
  const match = /^\/rules\/(\d+)(\/.*)?$/.exec(pointer);
  if (!match) return { path: pointer };
  const index = Number(match[1]);
  const rules = (json as { rules?: unknown[] }).rules;
  const name = (rules?.[index] as { name?: unknown } | undefined)?.name;
  return { rule: typeof name === 'string' ? name : `rules[${index}]`, path: match[2] ?? '' };
}

/** Parses and validates a rule file; throws a RuleFileError listing every problem. */
export function validateRuleFile(text: string, file: string, ops: OperatorLookup): RuleFileJson {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RuleFileError([{ file, path: '', message: `not JSON: ${(err as Error).message}` }]);
  }
  if (!validateSchema(json)) {
    const seen = new Set<string>();
    const problems: RuleProblem[] = [];
    for (const error of validateSchema.errors ?? []) {
      const problem = { file, ...locate(json, error.instancePath), message: messageOf(error) };
      const key = describeProblem(problem);
      if (!seen.has(key)) problems.push(problem);
      seen.add(key);
    }
    throw new RuleFileError(problems);
  }
  const problems: RuleProblem[] = [];
  const names = new Set<string>();
  json.rules.forEach((rule, index) => {
    const report = (path: string, message: string) =>
      problems.push({ file, rule: rule.name, path, message });
    if (names.has(rule.name))
      report('/name', `rules[${index}] uses a name an earlier rule already has`);
    names.add(rule.name);
    checkRule(rule, ops, report);
  });
  if (problems.length > 0) throw new RuleFileError(problems);
  return json;
}

type Report = (path: string, message: string) => void;

function checkRule(rule: RuleSpec, ops: OperatorLookup, report: Report): void {
  checkTop(rule.conditions, '/conditions', ops, report);
  if (rule.clear) checkTop(rule.clear, '/clear', ops, report);
  if (rule.clear && rule.hysteresis !== undefined)
    report('/hysteresis', 'give either "clear" or "hysteresis", not both');
  rule.escalate?.forEach((e, i) => {
    if ((e.after === undefined) === (e.when === undefined))
      report(`/escalate/${i}`, 'needs exactly one of "after" or "when"');
    if (e.when) checkTop(e.when, `/escalate/${i}/when`, ops, report);
  });
  rule.actions?.forEach((a, i) => {
    if (!a.target.kind && !a.target.deviceId)
      report(
        `/actions/${i}/target`,
        'needs a module "kind" (with an optional "location") or a "deviceId"',
      );
    if (a.target.kind && a.target.deviceId)
      report(`/actions/${i}/target`, 'give a "kind" (MQTT) or a "deviceId" (EOT), not both');
  });
  // json-rules-engine's own checks of a rule's shape.
  try {
    new Engine().addRule({
      name: rule.name,
      conditions: rule.conditions as never,
      event: { type: 'alarm' },
      priority: rule.priority,
    });
  } catch (err) {
    report('/conditions', (err as Error).message);
  }
}

function checkTop(c: ConditionJson, path: string, ops: OperatorLookup, report: Report): void {
  if ('fact' in c && !('all' in c || 'any' in c || 'not' in c)) {
    report(path, 'the top level must be "all", "any" or "not"');
    return;
  }
  checkCondition(c, path, ops, report);
}

function checkCondition(c: ConditionJson, path: string, ops: OperatorLookup, report: Report): void {
  const kinds = ['all', 'any', 'not', 'fact'].filter((k) => k in c);
  if (kinds.length !== 1) {
    report(path, 'a condition needs exactly one of "all", "any", "not" or "fact"');
    return;
  }
  if ('all' in c)
    return c.all.forEach((s, i) => checkCondition(s, `${path}/all/${i}`, ops, report));
  if ('any' in c)
    return c.any.forEach((s, i) => checkCondition(s, `${path}/any/${i}`, ops, report));
  if ('not' in c) return checkCondition(c.not, `${path}/not`, ops, report);
  const leaf = c;
  for (const key of ['operator', 'value'] as const) {
    if (!(key in leaf)) report(path, `missing "${key}"`);
  }
  if (typeof leaf.operator !== 'string') return;
  if (!ops.get(leaf.operator)) report(`${path}/operator`, `unknown operator "${leaf.operator}"`);
  const base = leaf.operator.split(':').pop()!;
  const value = leaf.value;
  if (isFactReference(value)) {
    if (!KNOWN_FACTS.has(String(value.fact)))
      report(`${path}/value/fact`, `unknown fact "${String(value.fact)}"`);
    return;
  }
  if (SERIES.has(base)) {
    if (leaf.fact !== 'value' || leaf.path)
      report(
        `${path}/fact`,
        `"${base}" compares a reading with the previous one: its fact must be "value"`,
      );
    if (typeof value !== 'number') report(`${path}/value`, 'must be a number');
  }
  if (base === 'between') {
    const ok =
      Array.isArray(value) &&
      value.length === 2 &&
      value.every((v) => typeof v === 'number') &&
      (value[0] as number) <= (value[1] as number);
    if (!ok) report(`${path}/value`, '"between" needs [low, high] with low <= high');
  }
  if ((base === 'in' || base === 'notIn') && leaf.operator === base && !Array.isArray(value))
    report(`${path}/value`, `"${base}" needs a list`);
}
