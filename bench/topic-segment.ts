// Topic routing with 1,000 filters, in one real Node-RED runtime (embedded as
// the launcher embeds it, loading Sensflow's compiled nodes): messages/s
// through topic-segment (a trie) against the same routing done by the core
// switch node with one regex rule per filter (checking all rules, as MQTT
// subscriptions do). Prints both rates and their ratio; the goal is >= 20x.
//
//   npm run build && npx tsx bench/topic-segment.ts [messages-for-topic-segment] [messages-for-switch]
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Node, NodeMessage } from 'node-red';
import RED from 'node-red';
import { TopicMatcher } from '../lib/topics/matcher';
import { packageRoot } from '../lib/util/package-root';

const FILTERS = 1000;
const TS_MESSAGES = Number(process.argv[2] ?? 30_000);
const SWITCH_MESSAGES = Number(process.argv[3] ?? 1_000);
/** Rounds of (topic-segment, switch), alternated so that a change in the
 *  machine's load hits both; the medians are compared. */
const ROUNDS = 3;
const KINDS = [
  'temperature',
  'humidity',
  'luminosity',
  'co2',
  'sound',
  'presence',
  'energy',
  'shutter',
  'lighting',
];

/** A deterministic pseudo-random sequence, so every run routes the same traffic. */
function randomInts(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    // mulberry32: 32-bit integer arithmetic, exact in JavaScript.
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

/** 1,000 distinct filters over a campus of 50 buildings x 20 rooms x 9 kinds. */
function campusFilters(): string[] {
  const pick = randomInts(7);
  const filters = new Set<string>();
  while (filters.size < FILTERS) {
    const b = `b${pick(50)}`;
    const r = `r${pick(20)}`;
    const k = KINDS[pick(KINDS.length)];
    const shapes = [`${b}/${r}/${k}`, `${b}/+/${k}`, `${b}/${r}/#`, `+/${r}/${k}`];
    filters.add(shapes[pick(shapes.length)]);
  }
  return [...filters];
}

function topics(count: number, seed: number): string[] {
  const pick = randomInts(seed);
  return Array.from(
    { length: count },
    () => `b${pick(50)}/r${pick(20)}/${KINDS[pick(KINDS.length)]}`,
  );
}

/** The same filter as a regular expression, the way a switch rule says it. */
function asRegex(filter: string): string {
  const body = filter
    .split('/')
    .map((l) => (l === '+' ? '[^/]+' : l === '#' ? '#' : l))
    .join('/')
    .replace(/\/#$/, '(/.*)?');
  return `^${body}$`;
}

/** Deliveries each topic makes: one per matching filter, or one to "otherwise". */
function expectedDeliveries(filters: string[], list: string[]): number {
  const matcher = new TopicMatcher<number>();
  filters.forEach((f, i) => matcher.add(f, i));
  const regexes = filters.map((f) => new RegExp(asRegex(f)));
  let total = 0;
  for (const t of list) {
    const viaTrie = matcher.match(t).sort((a, b) => a - b);
    const viaRegex = regexes.flatMap((r, i) => (r.test(t) ? [i] : []));
    if (viaTrie.join() !== viaRegex.join()) throw new Error(`trie and regexes disagree on ${t}`);
    total += Math.max(1, viaTrie.length);
  }
  return total;
}

type Runtime = { nodes: { getNode(id: string): Node | null } };
const runtime = RED as unknown as Runtime;

const seen: Record<string, number> = {};
let onSeen: () => void = () => undefined;

/** Counts what reaches a sink (a junction wired nowhere). */
function countAt(sink: string): void {
  seen[sink] = 0;
  runtime.nodes.getNode(sink)!.on('input', () => {
    seen[sink] += 1;
    onSeen();
  });
}

/** Pushes `list` through `source` (a junction wired to the node under test) and
 *  resolves with messages/s once `sink` has seen every delivery. */
async function measure(
  source: string,
  sink: string,
  list: string[],
  deliveries: number,
): Promise<number> {
  const src = runtime.nodes.getNode(source)!;
  seen[sink] = 0;
  let timer: NodeJS.Timeout | undefined;
  const finished = new Promise<void>((resolve, reject) => {
    onSeen = () => (seen[sink] >= deliveries ? resolve() : undefined);
    timer = setTimeout(
      () => reject(new Error(`${source}: ${seen[sink]} of ${deliveries} deliveries after 120 s`)),
      120_000,
    );
  });
  const start = process.hrtime.bigint();
  for (const topic of list) src.send({ topic, payload: 21.5 } as NodeMessage);
  await finished.finally(() => clearTimeout(timer));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await new Promise((resolve) => setTimeout(resolve, 50));
  if (seen[sink] !== deliveries)
    throw new Error(`${source}: ${seen[sink]} deliveries, expected ${deliveries}`);
  return list.length / seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main() {
  if (!fs.existsSync(path.join(packageRoot(), 'dist/nodes/topic-segment/topic-segment.js'))) {
    throw new Error('run `npm run build` first: the runtime loads the compiled nodes');
  }
  const filters = campusFilters();
  const tsTopics = topics(TS_MESSAGES, 11);
  const swTopics = topics(SWITCH_MESSAGES, 13);
  const tsDeliveries = expectedDeliveries(filters, tsTopics);
  const swDeliveries = expectedDeliveries(filters, swTopics);
  const wires = (target: string) => Array.from({ length: FILTERS + 1 }, () => [target]);

  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-bench-'));
  RED.init(http.createServer(), {
    userDir,
    nodesDir: [packageRoot()],
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    credentialSecret: false,
    logging: { console: { level: 'warn', metrics: false, audit: false } },
    telemetry: { enabled: false, updateNotification: false },
    editorTheme: { projects: { enabled: false } },
  } as unknown as Parameters<typeof RED.init>[1]);
  await RED.start();
  try {
    await RED.runtime.flows.setFlows({
      flows: {
        flows: [
          { id: 'tab', type: 'tab', label: 'bench' },
          { id: 'src-ts', type: 'junction', z: 'tab', wires: [['ts']] },
          { id: 'src-sw', type: 'junction', z: 'tab', wires: [['sw']] },
          {
            id: 'ts',
            type: 'topic-segment',
            z: 'tab',
            mode: 'parse',
            routeBy: 'filter',
            rules: filters.map((v) => ({ v })),
            outputs: FILTERS + 1,
            wires: wires('count-ts'),
          },
          {
            id: 'sw',
            type: 'switch',
            z: 'tab',
            property: 'topic',
            propertyType: 'msg',
            checkall: 'true',
            rules: [
              ...filters.map((f) => ({ t: 'regex', v: asRegex(f), vt: 'str', case: false })),
              { t: 'else' },
            ],
            outputs: FILTERS + 1,
            wires: wires('count-sw'),
          },
          { id: 'count-ts', type: 'junction', z: 'tab', wires: [] },
          { id: 'count-sw', type: 'junction', z: 'tab', wires: [] },
        ],
      },
      deploymentType: 'full',
    } as unknown as Parameters<typeof RED.runtime.flows.setFlows>[0]);
    // setFlows resolves once the flows are saved; they start just after.
    for (let i = 0; i < 100 && !runtime.nodes.getNode('count-sw'); i++)
      await new Promise((r) => setTimeout(r, 100));
    if (!runtime.nodes.getNode('ts'))
      throw new Error('topic-segment did not start (is dist/ built?)');
    countAt('count-ts');
    countAt('count-sw');
    // A warm-up of each, then the measured runs.
    await measure(
      'src-ts',
      'count-ts',
      tsTopics.slice(0, 2000),
      expectedDeliveries(filters, tsTopics.slice(0, 2000)),
    );
    await measure(
      'src-sw',
      'count-sw',
      swTopics.slice(0, 200),
      expectedDeliveries(filters, swTopics.slice(0, 200)),
    );
    const tsRates: number[] = [];
    const swRates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      tsRates.push(await measure('src-ts', 'count-ts', tsTopics, tsDeliveries));
      swRates.push(await measure('src-sw', 'count-sw', swTopics, swDeliveries));
    }
    const tsRate = median(tsRates);
    const swRate = median(swRates);
    console.log(
      `filters: ${FILTERS}; deliveries per message: ${(tsDeliveries / TS_MESSAGES).toFixed(2)}`,
    );
    console.log(
      `topic-segment (trie):  ${Math.round(tsRate).toLocaleString('en')} messages/s (median of ${ROUNDS} runs of ${TS_MESSAGES} messages)`,
    );
    console.log(
      `switch (regex rules):  ${Math.round(swRate).toLocaleString('en')} messages/s (median of ${ROUNDS} runs of ${SWITCH_MESSAGES} messages)`,
    );
    console.log(`ratio: ${(tsRate / swRate).toFixed(1)}x (goal >= 20x)`);
  } finally {
    await RED.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

// The core switch node walks its rules by recursion: with 1,000 rules it
// overflows Node's default stack (about 1 MB) on some messages and then stops
// processing. The bench re-runs itself with a 4 MB stack (within the usual
// 8 MB main-thread limit) so that the peer can be measured at all.
const STACK = '--stack-size=4000';
if (!process.execArgv.includes(STACK)) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const run = spawnSync(process.execPath, [STACK, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  process.exit(run.status ?? 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
