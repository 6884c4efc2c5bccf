// Rule files are validated against the schema and the engine: every problem
// names the file, the rule and the JSON path; the shipped examples are valid.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { compileRuleFile } from '../../../lib/alarms/rules';
import { RuleFileError, RuleProblem, validateRuleFile } from '../../../lib/alarms/validate';
import { ROOT } from '../../support/sensflow-process';
import { ops } from './harness';

function problemsOf(json: unknown): RuleProblem[] {
  const text = typeof json === 'string' ? json : JSON.stringify(json);
  try {
    compileRuleFile(text, 'bad.json', 'bad', ops);
  } catch (err) {
    assert.ok(err instanceof RuleFileError, String(err));
    for (const p of err.problems) assert.equal(p.file, 'bad.json');
    return err.problems;
  }
  return assert.fail('the file was accepted');
}

const good = {
  name: 'hot',
  alarm: 'Too hot',
  severity: 'major',
  conditions: { all: [{ fact: 'value', operator: 'greaterThan', value: 30 }] },
};
const withRule = (patch: Record<string, unknown>) => ({ rules: [{ ...good, ...patch }] });

function assertProblem(problems: RuleProblem[], expected: Partial<RuleProblem>, message: RegExp) {
  const found = problems.find(
    (p) =>
      (expected.rule === undefined || p.rule === expected.rule) &&
      (expected.path === undefined || p.path === expected.path) &&
      message.test(p.message),
  );
  assert.ok(
    found,
    `no problem like ${JSON.stringify(expected)} ${message}: ${JSON.stringify(problems)}`,
  );
}

describe('rule file validation', () => {
  it('accepts a good file', () => {
    const set = compileRuleFile(JSON.stringify({ rules: [good] }), 'good.json', 'good', ops);
    assert.equal(set.rules[0].id, 'good/hot');
  });

  it('reports a file that is not JSON, with the parser message', () => {
    const [p] = problemsOf('{"rules": [');
    assert.equal(p.rule, undefined);
    assert.match(p.message, /not JSON/);
  });

  it('names the rule and path of a missing severity', () => {
    const rest: Record<string, unknown> = { ...good };
    delete rest.severity;
    assertProblem(problemsOf({ rules: [rest] }), { rule: 'hot', path: '' }, /missing "severity"/);
  });

  it('refuses an unknown severity, listing the allowed ones', () => {
    assertProblem(
      problemsOf(withRule({ severity: 'huge' })),
      { rule: 'hot', path: '/severity' },
      /critical, major, minor, warning, indeterminate/,
    );
  });

  it('refuses an unknown fact at its path', () => {
    const p = problemsOf(
      withRule({ conditions: { all: [{ fact: 'temp', operator: 'equal', value: 1 }] } }),
    );
    assertProblem(p, { rule: 'hot', path: '/conditions/all/0/fact' }, /unknown fact/);
  });

  it('refuses an unknown fact named in a value', () => {
    const p = problemsOf(
      withRule({
        conditions: { all: [{ fact: 'value', operator: 'equal', value: { fact: 'nope' } }] },
      }),
    );
    assertProblem(p, { path: '/conditions/all/0/value/fact' }, /unknown fact "nope"/);
  });

  it('refuses an unknown operator and an unknown decorator', () => {
    const p = problemsOf(
      withRule({
        conditions: {
          any: [
            { fact: 'value', operator: 'biggerThan', value: 1 },
            { fact: 'value', operator: 'sometimes:equal', value: 1 },
          ],
        },
      }),
    );
    assertProblem(p, { path: '/conditions/any/0/operator' }, /unknown operator "biggerThan"/);
    assertProblem(p, { path: '/conditions/any/1/operator' }, /unknown operator "sometimes:equal"/);
  });

  it('accepts json-rules-engine decorators on operators', () => {
    compileRuleFile(
      JSON.stringify(
        withRule({ conditions: { all: [{ fact: 'kind', operator: 'not:equal', value: 'co2' }] } }),
      ),
      'ok.json',
      'ok',
      ops,
    );
  });

  it('refuses a leaf at the top level and a condition with two kinds', () => {
    assertProblem(
      problemsOf(withRule({ conditions: { fact: 'value', operator: 'equal', value: 1 } })),
      { path: '/conditions' },
      /top level must be "all", "any" or "not"/,
    );
    assertProblem(
      problemsOf(
        withRule({
          conditions: { all: [{ all: [], fact: 'value', operator: 'equal', value: 1 }] },
        }),
      ),
      { path: '/conditions/all/0' },
      /exactly one of/,
    );
  });

  it('refuses an unknown property with its name', () => {
    assertProblem(
      problemsOf(withRule({ severty: 'major' })),
      { rule: 'hot' },
      /unknown property "severty"/,
    );
  });

  it('checks the operands of between, in and the series operators', () => {
    const p = problemsOf(
      withRule({
        conditions: {
          all: [
            { fact: 'value', operator: 'between', value: [30, 10] },
            { fact: 'kind', operator: 'in', value: 'co2' },
            { fact: 'previous', operator: 'changedBy', value: 2 },
            { fact: 'value', operator: 'risingAbove', value: 'high' },
          ],
        },
      }),
    );
    assertProblem(p, { path: '/conditions/all/0/value' }, /low <= high/);
    assertProblem(p, { path: '/conditions/all/1/value' }, /needs a list/);
    assertProblem(p, { path: '/conditions/all/2/fact' }, /must be "value"/);
    assertProblem(p, { path: '/conditions/all/3/value' }, /must be a number/);
  });

  it('refuses hysteresis without exactly one threshold, and with a clear condition', () => {
    assertProblem(
      problemsOf(
        withRule({
          hysteresis: 1,
          conditions: { any: [{ fact: 'kind', operator: 'equal', value: 'co2' }] },
        }),
      ),
      { rule: 'hot', path: '/hysteresis' },
      /exactly one threshold/,
    );
    assertProblem(
      problemsOf(withRule({ hysteresis: 1, clear: { all: [] } })),
      { path: '/hysteresis' },
      /either "clear" or "hysteresis"/,
    );
  });

  it('refuses bad durations, escalations and action targets', () => {
    assertProblem(
      problemsOf(withRule({ for: '10 minutes' })),
      { path: '/for' },
      /must match pattern/,
    );
    const p = problemsOf(
      withRule({
        for: '10m',
        escalate: [{ severity: 'critical' }],
        actions: [{ on: 'raise', target: { location: 'u4/300' }, order: 'up' }],
      }),
    );
    assertProblem(p, { path: '/escalate/0' }, /exactly one of "after" or "when"/);
    assertProblem(p, { path: '/actions/0/target' }, /"kind".*or a "deviceId"/);
  });

  it('refuses two rules with one name, naming the second', () => {
    assertProblem(
      problemsOf({ rules: [good, good] }),
      { rule: 'hot', path: '/name' },
      /rules\[1\]/,
    );
  });

  it('names a nameless rule by its index', () => {
    const rest: Record<string, unknown> = { ...good };
    delete rest.name;
    assertProblem(problemsOf({ rules: [good, rest] }), { rule: 'rules[1]' }, /missing "name"/);
  });

  it('describes a problem in one line with file, rule and path', () => {
    const err = (() => {
      try {
        validateRuleFile(JSON.stringify(withRule({ severity: 'huge' })), 'rules/x.json', ops);
      } catch (e) {
        return e as Error;
      }
      return assert.fail('accepted');
    })();
    assert.match(err.message, /^rules\/x\.json: rule "hot" \/severity: must be one of/);
  });

  describe('shipped rules', () => {
    const dir = path.join(ROOT, 'rules');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    it("ship the seeds' three scenarios", () => {
      assert.deepEqual(files.sort(), ['co2.json', 'devices.json', 'temperature.json']);
    });
    for (const file of files) {
      it(`${file} is valid`, () => {
        const set = compileRuleFile(fs.readFileSync(path.join(dir, file), 'utf8'), file, file, ops);
        assert.ok(set.rules.length > 0);
      });
    }
  });
});
