// Benchmark: readings per second through the alarm-rules node (a real
// Node-RED runtime, a real SQLite store) with 10 and with 1,000 rules over
// many kinds and locations, against plain json-rules-engine (one engine
// holding all the rules, one run per reading) in the same process, on the
// same readings; and a check that both find the same rules for every
// reading compared.
//
// Readings: 20 kinds x 100 locations, each series a random walk (sensor
// values drift; alarms are raised and cleared as they cross thresholds).
// The node is measured twice: as deployed (evaluation output unwired; the
// clock stops when the runtime reports the last message done), and with
// the evaluation output wired to a node that collects the results compared
// with plain json-rules-engine's.
//
// Each side is timed three times and the median counts (the cores are shared).
// Run: npx tsx bench/alarm-rules.ts [readings]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import RED from 'node-red';
import type { Node } from 'node-red';
import type { Evaluation } from '../lib/alarms/engine';
import { operatorsOf, series, sensflowEngine } from '../lib/alarms/operators';
import { compileRuleFile, engineRule } from '../lib/alarms/rules';
import alarmRulesNode from '../nodes/alarm-rules/alarm-rules';
import registryNode from '../nodes/sensflow-registry/sensflow-registry';
import { helper, load, startServer, stopServer } from '../test/support/node-helper';

const KINDS = 20;
const LOCATIONS = 100;
const READINGS = Number(process.argv[2] ?? 50_000);
/** Plain runs take 0.1 ms (10 rules) to 20 ms (1,000 rules) each: time (and compare) this many. */
const PLAIN_LIMIT = { small: 20_000, large: 300 };
/** Each side is timed this many times; the median counts (other work shares the cores). */
const ROUNDS = 3;

function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const kind = (i: number) => `kind${i % KINDS}`;
const location = (i: number) => `b${Math.floor(i / 10) % 10}/r${i % 10}`;

/** Rules like the shipped ones: a kind, often a location, a threshold, some windows. */
function rules(count: number, random: () => number) {
  return Array.from({ length: count }, (_, i) => {
    const where = [{ fact: 'kind', operator: 'equal', value: kind(i) }];
    if (random() < 0.7)
      where.push({
        fact: 'location',
        operator: 'equal',
        value: location(Math.floor(random() * LOCATIONS)),
      });
    const shape = random();
    const test =
      shape < 0.6
        ? { fact: 'value', operator: 'greaterThan', value: 60 + Math.floor(random() * 30) }
        : shape < 0.8
          ? { fact: 'value', operator: 'between', value: [40, 45] }
          : { fact: 'value', operator: 'changedBy', value: 2.5 };
    return {
      name: `rule-${i}`,
      alarm: `Alarm ${i}`,
      severity: 'minor',
      per: 'location',
      conditions: { all: [...where, test] },
      ...(shape < 0.6 && random() < 0.5 ? { hysteresis: 2 } : {}),
      ...(random() < 0.3 ? { repeat: 2 } : {}),
      ...(random() < 0.2 ? { for: '5m' } : {}),
    };
  });
}

/** Random walks: each reading moves one series' value a little. */
function readings(count: number, random: () => number) {
  const values = Array.from({ length: KINDS * LOCATIONS }, () => random() * 100);
  return Array.from({ length: count }, () => {
    const s = Math.floor(random() * values.length);
    values[s] = Math.min(100, Math.max(0, values[s] + (random() - 0.5) * 3));
    return {
      topic: `${location(s % LOCATIONS)}/${kind(Math.floor(s / LOCATIONS))}`,
      payload: { value: Math.round(values[s] * 10) / 10 },
    };
  });
}

/** Takes the test helper's sinon spies (on Node's methods, on every node it
 *  hands out, on the runtime's log) off while the clock runs: a server has none. */
function withoutSpies(nodes: Node[]): () => void {
  const inner = helper as unknown as {
    _NodePrototype: Record<string, unknown>;
    _log: Record<string, unknown>;
  };
  const methods = ['log', 'status', 'warn', 'error', 'debug', 'trace', 'send'];
  const swapped: Array<readonly [Record<string, unknown>, string, unknown]> = [
    ...methods.map((m) => [inner._NodePrototype, m, inner._NodePrototype[m]] as const),
    [inner._log, 'log', inner._log.log] as const,
  ];
  for (const [owner, m, spy] of swapped)
    owner[m] = (spy as { wrappedMethod: unknown }).wrappedMethod;
  const own = nodes.flatMap((n) => {
    const record = n as unknown as Record<string, unknown>;
    return methods
      .filter((m) => Object.prototype.hasOwnProperty.call(record, m))
      .map((m) => [record, m, record[m]] as const);
  });
  for (const [n, m] of own) delete n[m];
  return () => {
    for (const [owner, m, spy] of swapped) owner[m] = spy;
    for (const [n, m, spy] of own) n[m] = spy;
  };
}

async function throughNode(
  rulesJson: string,
  msgs: Array<Record<string, unknown>>,
  collect: boolean,
): Promise<{ perSecond: number; evaluations: Evaluation[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-bench-'));
  await startServer();
  await load(
    [registryNode, alarmRulesNode],
    [
      { id: 'store', type: 'sensflow-registry', store: 'sqlite', file: path.join(dir, 'bench.db') },
      {
        id: 'rules',
        type: 'alarm-rules',
        registry: 'store',
        source: 'inline',
        rules: rulesJson,
        set: 'bench',
        wires: [[], [], collect ? ['out'] : []],
      },
      { id: 'out', type: 'helper' },
    ],
  );
  const node = helper.getNode('rules') as Node;
  const out = helper.getNode('out') as Node;
  const evaluations: Evaluation[] = [];
  let completed = 0;
  RED.hooks.add('onComplete.bench', (event: { node: { id: string } }) => {
    if (event.node.id === 'rules') completed++;
  });
  (out as unknown as NodeJS.EventEmitter).on('input', (msg: { evaluation: Evaluation }) => {
    evaluations.push(msg.evaluation);
  });
  const finished = (n: number) => (collect ? evaluations.length : completed) >= n;

  // Warm up (engine start, store open, each location's registry lookup) with a kind no rule has.
  for (let i = 0; i < LOCATIONS; i++)
    node.receive({ topic: `${location(i)}/warmup`, payload: { value: 0 } } as never);
  while (!finished(LOCATIONS)) await new Promise((r) => setTimeout(r, 10));
  evaluations.length = 0;
  completed = 0;

  const restore = withoutSpies([node, out]);
  const fresh = msgs.map((m) => structuredClone(m));
  const started = performance.now();
  for (const m of fresh) node.receive(m as never);
  while (!finished(msgs.length)) await new Promise((r) => setImmediate(r));
  const seconds = (performance.now() - started) / 1000;
  restore();
  RED.hooks.remove('onComplete.bench');
  await stopServer();
  return { perSecond: msgs.length / seconds, evaluations };
}

async function plainEngine(rulesJson: string, evaluations: Evaluation[]) {
  const set = compileRuleFile(rulesJson, 'bench.json', 'bench', operatorsOf(sensflowEngine()));
  const engine = sensflowEngine();
  for (const rule of set.rules) engine.addRule(engineRule(rule));
  const matched: string[][] = [];
  const started = performance.now();
  for (const evaluation of evaluations) {
    const facts = { ...evaluation.facts };
    series.previous = facts.previous;
    const { results } = await engine.run(facts);
    matched.push(results.map((r) => String(r.name)));
  }
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: evaluations.length / seconds, matched };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const rate = (n: number) => Math.round(n).toLocaleString('en');

async function scenario(ruleCount: number, goal: number): Promise<boolean> {
  const random = prng(ruleCount);
  const rulesJson = JSON.stringify({ rules: rules(ruleCount, random) });
  const msgs = readings(READINGS, random);
  const deployed = { perSecond: 0 };
  const rounds: number[] = [];
  for (let i = 0; i < ROUNDS; i++)
    rounds.push((await throughNode(rulesJson, msgs, false)).perSecond);
  deployed.perSecond = median(rounds);
  const collected = await throughNode(rulesJson, msgs, true);
  const compared = collected.evaluations.slice(
    0,
    ruleCount > 100 ? PLAIN_LIMIT.large : PLAIN_LIMIT.small,
  );
  const plainRounds: number[] = [];
  let plain = await plainEngine(rulesJson, compared);
  plainRounds.push(plain.perSecond);
  for (let i = 1; i < ROUNDS; i++) {
    plain = await plainEngine(rulesJson, compared);
    plainRounds.push(plain.perSecond);
  }
  plain.perSecond = median(plainRounds);
  let differ = 0;
  let matches = 0;
  compared.forEach((e, i) => {
    if ([...e.matched].sort().join() !== [...plain.matched[i]].sort().join()) differ++;
    matches += e.matched.length;
  });
  const ratio = deployed.perSecond / plain.perSecond;
  console.log(
    `${String(ruleCount).padStart(5)} rules: alarm-rules node ${rate(deployed.perSecond)} readings/s ` +
      `(${rate(collected.perSecond)} with the evaluation output collected), ` +
      `plain json-rules-engine ${rate(plain.perSecond)} readings/s: ` +
      `ratio ${ratio.toFixed(1)}x (goal >= ${goal}x: ${ratio >= goal ? 'met' : 'NOT met'}); ` +
      `same rules found on ${compared.length - differ} of ${compared.length} readings (${matches} matches)`,
  );
  return differ === 0 && ratio >= goal;
}

async function main() {
  console.log(
    `alarm-rules benchmark: ${READINGS} readings, ${KINDS} kinds x ${LOCATIONS} locations, median of ${ROUNDS}, ` +
      `node ${process.version}, ${os.cpus().length} cpus, load average ${os.loadavg()[0].toFixed(1)}`,
  );
  const ok = [await scenario(10, 10), await scenario(1000, 100)];
  process.exit(ok.every(Boolean) ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(2);
});
