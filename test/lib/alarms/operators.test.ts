// Each operator, json-rules-engine's own and Sensflow's, gives the same
// answer through the compiled check and through a plain engine run.
import assert from 'node:assert/strict';
import { compileRule } from '../../../lib/alarms/compile';
import type { ConditionJson } from '../../../lib/alarms/format';
import { operatorsOf, SeriesContext, sensflowEngine } from '../../../lib/alarms/operators';

const context: SeriesContext = { previous: undefined };
const engine = sensflowEngine(context);
const ops = operatorsOf(engine);

/** Both answers for one leaf under `all`, checked equal; returns it. */
async function both(leaf: ConditionJson, facts: Record<string, unknown>): Promise<boolean> {
  const conditions = { all: [leaf] } as ConditionJson;
  context.previous = facts.previous;
  const compiled = compileRule(conditions, ops)(facts);
  const plain = sensflowEngine(context);
  plain.addRule({ name: 'r', conditions: conditions as never, event: { type: 'x' } });
  const { results } = await plain.run(facts);
  assert.equal(compiled, results.length === 1, `compiled vs engine on ${JSON.stringify(leaf)}`);
  return compiled;
}

const cases: Array<[string, ConditionJson, Record<string, unknown>, boolean]> = [
  ['equal', { fact: 'kind', operator: 'equal', value: 'co2' }, { kind: 'co2' }, true],
  ['equal is strict', { fact: 'value', operator: 'equal', value: '1' }, { value: 1 }, false],
  ['notEqual', { fact: 'kind', operator: 'notEqual', value: 'co2' }, { kind: 'sound' }, true],
  ['in', { fact: 'kind', operator: 'in', value: ['co2', 'sound'] }, { kind: 'sound' }, true],
  ['notIn', { fact: 'kind', operator: 'notIn', value: ['co2'] }, { kind: 'co2' }, false],
  ['contains', { fact: 'payload', operator: 'contains', value: 3 }, { payload: [1, 3] }, true],
  [
    'contains needs a list',
    { fact: 'kind', operator: 'contains', value: 'o' },
    { kind: 'co2' },
    false,
  ],
  [
    'doesNotContain',
    { fact: 'payload', operator: 'doesNotContain', value: 3 },
    { payload: [1] },
    true,
  ],
  ['lessThan', { fact: 'value', operator: 'lessThan', value: 5 }, { value: 4.9 }, true],
  [
    'lessThanInclusive',
    { fact: 'value', operator: 'lessThanInclusive', value: 5 },
    { value: 5 },
    true,
  ],
  ['greaterThan', { fact: 'value', operator: 'greaterThan', value: 5 }, { value: 5 }, false],
  [
    'greaterThanInclusive',
    { fact: 'value', operator: 'greaterThanInclusive', value: 5 },
    { value: 5 },
    true,
  ],
  [
    'greaterThan on a missing fact',
    { fact: 'value', operator: 'greaterThan', value: 5 },
    {},
    false,
  ],
  ['between inside', { fact: 'value', operator: 'between', value: [10, 20] }, { value: 10 }, true],
  [
    'between outside',
    { fact: 'value', operator: 'between', value: [10, 20] },
    { value: 20.1 },
    false,
  ],
  [
    'between on text',
    { fact: 'value', operator: 'between', value: [10, 20] },
    { value: '15' },
    false,
  ],
  [
    'changedBy up',
    { fact: 'value', operator: 'changedBy', value: 2 },
    { value: 23, previous: 21 },
    true,
  ],
  [
    'changedBy down',
    { fact: 'value', operator: 'changedBy', value: 2 },
    { value: 19, previous: 21 },
    true,
  ],
  [
    'changedBy small',
    { fact: 'value', operator: 'changedBy', value: 2 },
    { value: 22, previous: 21 },
    false,
  ],
  [
    'changedBy first reading',
    { fact: 'value', operator: 'changedBy', value: 2 },
    { value: 99 },
    false,
  ],
  [
    'risingAbove crossing',
    { fact: 'value', operator: 'risingAbove', value: 30 },
    { value: 31, previous: 30 },
    true,
  ],
  [
    'risingAbove already above',
    { fact: 'value', operator: 'risingAbove', value: 30 },
    { value: 32, previous: 31 },
    false,
  ],
  [
    'fallingBelow crossing',
    { fact: 'value', operator: 'fallingBelow', value: 10 },
    { value: 9, previous: 10 },
    true,
  ],
  [
    'fallingBelow already below',
    { fact: 'value', operator: 'fallingBelow', value: 10 },
    { value: 8, previous: 9 },
    false,
  ],
  ['not: decorator', { fact: 'kind', operator: 'not:equal', value: 'co2' }, { kind: 'co2' }, false],
  [
    'someValue: decorator',
    { fact: 'value', operator: 'someValue:greaterThan', value: [50, 5] },
    { value: 10 },
    true,
  ],
  [
    'path into a device',
    { fact: 'device', path: '$.type', operator: 'equal', value: 'esp32' },
    { device: { type: 'esp32' } },
    true,
  ],
  [
    'path into a number gives the number',
    { fact: 'value', path: '$.x', operator: 'equal', value: 3 },
    { value: 3 },
    true,
  ],
  [
    'value from another fact',
    { fact: 'value', operator: 'greaterThan', value: { fact: 'previous' } },
    { value: 3, previous: 2 },
    true,
  ],
];

describe('operators (compiled and json-rules-engine agree)', () => {
  for (const [name, leaf, facts, expected] of cases) {
    it(name, async () => {
      assert.equal(await both(leaf, facts), expected);
    });
  }

  it("keeps json-rules-engine's truthiness rules for empty and single lists", async () => {
    const truthy = { fact: 'value', operator: 'someValue:equal', value: [1] } as ConditionJson;
    for (const conditions of [
      { all: [] },
      { any: [] },
      { not: { all: [] } },
      { any: [truthy, { not: truthy }] },
      { all: [{ all: [truthy] }, { any: [] }] },
    ] as ConditionJson[]) {
      const facts = { value: 1 };
      const plain = sensflowEngine(context);
      plain.addRule({ name: 'r', conditions: conditions as never, event: { type: 'x' } });
      const { results } = await plain.run(facts);
      assert.equal(
        compileRule(conditions, ops)(facts),
        results.length === 1,
        JSON.stringify(conditions),
      );
    }
  });
});
