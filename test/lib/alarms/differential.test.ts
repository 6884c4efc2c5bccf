// Differential test: on random rules and random readings, the alarm engine
// (index, compiled conditions, series values) finds exactly the rules that
// one plain json-rules-engine holding all of them finds, reading after
// reading; and the clear and escalation conditions agree the same way.
import assert from 'node:assert/strict';
import { Engine } from 'json-rules-engine';
import type { ConditionJson, RuleFileJson } from '../../../lib/alarms/format';
import { series, sensflowEngine } from '../../../lib/alarms/operators';
import { compileRuleFile, engineRule, RuleSet } from '../../../lib/alarms/rules';
import { FakeClock } from '../../support/fake-clock';
import { MemoryDirectory } from '../../support/memory-directory';
import { ops, rig } from './harness';

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)];
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Random = ReturnType<typeof random>;

const KINDS = ['temperature', 'co2', 'humidity', 'sound', 'luminosity'];
const LOCATIONS = ['u4/300', 'u4/301', 'bu/hall', 'outside/ambient', 'abroad/carcassonne/b1/12'];
const DEVICES = [
  { id: 'mkr-01', customerId: 'acme', location: 'u4/300', type: 'mkr1000' },
  { id: 'esp-02', customerId: 'acme', location: 'u4/301', type: 'esp32' },
  { id: 'rpi-03', customerId: 'globex', location: 'bu/hall', type: 'rpi3' },
];

function valueLeaf(g: Random): ConditionJson {
  const n = () => g.int(40) + (g.chance(0.3) ? 0.5 : 0);
  switch (g.int(14)) {
    case 0:
      return { fact: 'value', operator: 'equal', value: g.int(40) };
    case 1:
      return { fact: 'value', operator: 'notEqual', value: g.int(40) };
    case 2:
      return { fact: 'value', operator: g.pick(['lessThan', 'lessThanInclusive']), value: n() };
    case 3:
      return {
        fact: 'value',
        operator: g.pick(['greaterThan', 'greaterThanInclusive']),
        value: n(),
      };
    case 4: {
      const low = g.int(30);
      return { fact: 'value', operator: 'between', value: [low, low + g.int(15)] };
    }
    case 5:
      return { fact: 'value', operator: 'changedBy', value: 1 + g.int(10) };
    case 6:
      return { fact: 'value', operator: g.pick(['risingAbove', 'fallingBelow']), value: n() };
    case 7:
      return { fact: 'value', operator: 'in', value: [g.int(40), g.int(40), g.int(40)] };
    case 8:
      return { fact: 'value', operator: 'not:greaterThan', value: n() };
    case 9:
      return { fact: 'value', operator: 'someValue:equal', value: [g.int(40), g.int(40)] };
    case 10:
      return { fact: 'previous', operator: 'lessThan', value: { fact: 'value' } };
    case 11:
      return { fact: 'device', path: '$.type', operator: 'equal', value: g.pick(DEVICES).type };
    case 12:
      return { fact: 'customerId', operator: 'equal', value: g.pick(['acme', 'globex']) };
    default:
      return { fact: 'unit', operator: 'equal', value: g.pick(['C', 'ppm']) };
  }
}

function whereLeaf(g: Random): ConditionJson {
  if (g.chance(0.6)) {
    return g.chance(0.7)
      ? { fact: 'kind', operator: 'equal', value: g.pick(KINDS) }
      : { fact: 'kind', operator: g.pick(['in', 'notIn']), value: [g.pick(KINDS), g.pick(KINDS)] };
  }
  if (g.chance(0.2)) return { fact: 'outdoor', operator: 'equal', value: g.chance(0.5) };
  return g.chance(0.7)
    ? { fact: 'location', operator: g.pick(['equal', 'notEqual']), value: g.pick(LOCATIONS) }
    : { fact: 'location', operator: 'in', value: [g.pick(LOCATIONS), g.pick(LOCATIONS)] };
}

function tree(g: Random, depth: number): ConditionJson {
  if (depth <= 0 || g.chance(0.45)) return g.chance(0.75) ? valueLeaf(g) : whereLeaf(g);
  const children = () => Array.from({ length: g.int(4) }, () => tree(g, depth - 1));
  const which = g.int(3);
  if (which === 0) return { all: children() };
  if (which === 1) return { any: children() };
  return { not: tree(g, depth - 1) };
}

function randomRules(g: Random, count: number): RuleFileJson {
  const rules = Array.from({ length: count }, (_, i) => {
    let conditions: ConditionJson;
    const shape = g.int(10);
    if (shape < 6) {
      const filters = Array.from({ length: g.int(3) }, () => whereLeaf(g));
      conditions = { all: [...filters, ...Array.from({ length: g.int(3) }, () => tree(g, 2))] };
    } else if (shape < 8) conditions = { any: Array.from({ length: g.int(3) }, () => tree(g, 2)) };
    else conditions = { not: tree(g, 2) };
    return {
      name: `r${i}`,
      alarm: `rule ${i}`,
      severity: 'minor' as const,
      priority: 1 + g.int(3),
      conditions,
      ...(g.chance(0.3) ? { clear: { all: [tree(g, 2)] } } : {}),
      ...(g.chance(0.2)
        ? { escalate: [{ severity: 'critical' as const, when: { any: [tree(g, 1)] } }] }
        : {}),
    };
  });
  return { rules };
}

function randomMessage(g: Random): Record<string, unknown> {
  const value = g.chance(0.03) ? 'n/a' : g.int(40) + (g.chance(0.3) ? 0.5 : 0);
  if (g.chance(0.3)) {
    const device = g.pick(DEVICES);
    return {
      payload: {
        origin: device.id,
        type: 'READING',
        fields: [g.pick(KINDS), String(value), g.pick(['C', 'ppm', '']), ''],
        customer: device.customerId,
      },
    };
  }
  return {
    topic: `${g.pick(LOCATIONS)}/${g.pick(KINDS)}`,
    payload: { value, value_units: g.pick(['C', 'ppm']) },
  };
}

/** One plain engine with every rule, plus the clear and escalation conditions as rules of their own. */
function plainEngine(set: RuleSet): Engine {
  const engine = sensflowEngine();
  for (const rule of set.rules) {
    engine.addRule(engineRule(rule));
    if (rule.clearJson)
      engine.addRule({
        name: `${rule.id}#clear`,
        conditions: rule.clearJson as never,
        event: { type: 'clear' },
      });
    rule.escalations.forEach((e, i) => {
      if (e.whenJson)
        engine.addRule({
          name: `${rule.id}#when${i}`,
          conditions: e.whenJson as never,
          event: { type: 'when' },
        });
    });
  }
  return engine;
}

describe('differential: alarm engine vs plain json-rules-engine', function () {
  this.timeout(120_000);

  for (const seed of [1, 2, 3]) {
    it(`finds the same rules on random rules and readings (seed ${seed})`, async () => {
      const g = random(seed);
      const file = randomRules(g, 60);
      const set = compileRuleFile(JSON.stringify(file), 'random.json', 'random', ops);
      const plain = plainEngine(set);
      const r = await rig({
        clock: new FakeClock(),
        sets: [set],
        directory: new MemoryDirectory(DEVICES),
      });
      try {
        let compared = 0;
        let matches = 0;
        for (let i = 0; i < 800; i++) {
          const evaluation = await r.engine.handle(randomMessage(g));
          if (!evaluation.facts) continue;
          const facts = { ...evaluation.facts };
          series.previous = facts.previous;
          const { results } = await plain.run(facts);
          const names = results.map((x) => String(x.name));
          const expected = names.filter((n) => !n.includes('#')).sort();
          const got = [...evaluation.matched].sort();
          if (got.join() !== expected.join()) {
            const differ = set.rules.filter((x) => got.includes(x.id) !== expected.includes(x.id));
            assert.fail(
              `reading ${i}: ${JSON.stringify(facts)}\nours ${got.join()}\nplain ${expected.join()}\n` +
                differ.map((x) => `${x.id}: ${JSON.stringify(x.spec.conditions)}`).join('\n'),
            );
          }
          // Clear and escalation conditions, on every rule (no index).
          series.previous = facts.previous;
          const ours = set.rules.flatMap((rule) => [
            ...(rule.clearJson && rule.clears(facts) ? [`${rule.id}#clear`] : []),
            ...rule.escalations.flatMap((e, k) => (e.when?.(facts) ? [`${rule.id}#when${k}`] : [])),
          ]);
          assert.deepEqual(
            ours.sort(),
            names.filter((n) => n.includes('#')).sort(),
            `reading ${i}: ${JSON.stringify(facts)}`,
          );
          compared++;
          matches += expected.length;
        }
        assert.ok(compared > 700, `compared ${compared} readings`);
        assert.ok(matches > 100, `only ${matches} matches: the test would prove little`);
      } finally {
        await r.stop();
        await r.store.close();
      }
    });
  }
});
