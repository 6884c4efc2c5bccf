// Benchmark: points/s into a local InfluxDB 1.x, in one run, through
//  1. history-out (Sensflow) in a real Node-RED runtime embedded here
//     (RED.init, as the launcher does), until every point is written, with
//     three message shapes: 1 point per message, 100 and 5,000 per message;
//  2. raw line protocol in 5,000-point batches over one keep-alive HTTP
//     connection (the ceiling for any client);
//  3. node-red-contrib-influxdb's "influxdb out" node, the standard one, in
//     the same runtime, one message per point.
// The raw run and the history-out runs repeat in rounds, and each ratio is
// taken within its round, as the load of a shared machine drifts.
// Prints each rate and the ratios (goals: history-out ≥ 0.8 × raw, ≥ 20 × standard).
// Run: npm run build && npx tsx bench/history.ts [points] [rounds] [shapes]
// (default 300000 3 1,100,5000; shapes: points per message of each run)
// (the runtime loads the built nodes from dist/, as a server does, and runs
// with the node options of bin/sensflow)
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Node } from 'node-red';
import RED from 'node-red';
import type { HistoryStoreNode } from '../nodes/history-store/history-store-node';
import { packageRoot } from '../lib/util/package-root';
import { InfluxDb, startInfluxDb, stopAllServices } from '../test/support/services';
import { countPoints, influxQl } from '../test/support/history';
import { delay } from '../test/support/net';
import { nodeFlagsInUse, withProductFlags } from './peers/product-flags';

const POINTS = Number(process.argv[2] ?? 300_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const STANDARD_POINTS = Math.min(POINTS, 5_000);
const T0 = Date.now() - 3600_000;

/** A run: points/s, and CPU seconds per point of this process and of InfluxDB. */
interface Run {
  rate: number;
  cpu: number;
  influxCpu: number;
}

/** CPU seconds used so far by a process (Linux /proc; NaN elsewhere). */
function processCpu(pid: number | undefined): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
  } catch {
    return NaN;
  }
}

/** Times `work` (which handles `points`), with the CPU it took here and in InfluxDB. */
async function measure(influx: InfluxDb, points: number, work: () => Promise<void>): Promise<Run> {
  const influxBefore = processCpu(influx.process.pid);
  const before = process.cpuUsage();
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(before);
  return {
    rate: points / seconds,
    cpu: (used.user + used.system) / 1e6 / points,
    influxCpu: (processCpu(influx.process.pid) - influxBefore) / points,
  };
}

async function createDb(influx: InfluxDb, db: string): Promise<void> {
  await influxQl(influx.url, db, `CREATE DATABASE "${db}"`);
}

async function waitForCount(influx: InfluxDb, db: string, count: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while ((await countPoints(influx.url, db, 'bench')) < count) {
    if (Date.now() > deadline) throw new Error(`${db}: points missing after 120 s`);
    await delay(20);
  }
}

/** 5,000-line bodies posted one after another on a keep-alive connection. */
async function raw(influx: InfluxDb, db: string, points: number): Promise<Run> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(`${influx.url}/write?db=${db}&precision=ms`);
  const post = (body: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', agent }, (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 204 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
        );
      });
      req.on('error', reject);
      req.end(body);
    });
  const run = await measure(influx, points, async () => {
    for (let i = 0; i < points; i += 5000) {
      let body = '';
      for (let j = i; j < Math.min(points, i + 5000); j++) {
        body += `bench,building=u4,room=300,device=mkr-01 value=${j + 0.5} ${T0 + j}\n`;
      }
      await post(body);
    }
  });
  agent.destroy();
  return run;
}

/**
 * Sends `count` messages of `perMessage` points into `node`, yielding to the
 * event loop every 500 points or so, as messages from a socket or a broker
 * arrive over many turns of the loop (the raw client too yields once per
 * 5,000-point body).
 */
async function feed(
  node: Node,
  count: number,
  message: (i: number) => object,
  perMessage = 1,
): Promise<void> {
  const every = Math.max(1, Math.floor(500 / perMessage));
  for (let i = 0; i < count; i++) {
    node.receive(message(i) as never);
    if (i % every === every - 1) await new Promise((r) => setImmediate(r));
  }
}

/** A Node-RED runtime in this process, loading Sensflow's built nodes and the standard one. */
async function startRuntime(userDir: string): Promise<void> {
  const settings = {
    userDir,
    flowFile: 'flows.json',
    nodesDir: [
      packageRoot(),
      path.dirname(require.resolve('node-red-contrib-influxdb/package.json')),
    ],
    credentialSecret: 'bench',
    httpAdminRoot: false,
    httpNodeRoot: false,
    logging: { console: { level: 'warn', metrics: false, audit: false } },
    telemetry: { enabled: false, updateNotification: false },
    editorTheme: { projects: { enabled: false } },
  };
  RED.init(http.createServer(), settings as unknown as Parameters<typeof RED.init>[1]);
  await RED.start();
}

/** Deploys nodes on one tab and waits until they run. */
async function deploy(
  nodes: Array<{ id: string; type: string; [key: string]: unknown }>,
): Promise<void> {
  const flows =
    nodes.length > 0
      ? [{ id: 't1', type: 'tab', label: 'bench' }, ...nodes.map((n) => ({ z: 't1', ...n }))]
      : [];
  await RED.runtime.flows.setFlows({
    flows: { flows },
    deploymentType: 'full',
  } as unknown as Parameters<typeof RED.runtime.flows.setFlows>[0]);
  const deadline = Date.now() + 10_000;
  while (!nodes.every((n) => nodesApi.getNode(n.id))) {
    if (Date.now() > deadline) throw new Error('the bench flow did not start (is dist/ built?)');
    await delay(20);
  }
}

const nodesApi = RED.nodes as unknown as { getNode(id: string): unknown };

function node<T = Node>(id: string): T {
  const found = nodesApi.getNode(id);
  if (!found) throw new Error(`node ${id} is not running`);
  return found as unknown as T;
}

/** history-out, `perMessage` points in each message (1: one reading per message). */
async function ours(
  influx: InfluxDb,
  db: string,
  points: number,
  perMessage: number,
): Promise<Run> {
  await deploy([
    { id: 's1', type: 'history-store', backend: 'influxdb', url: influx.url, database: db },
    { id: 'o1', type: 'history-out', store: 's1', measurement: 'bench' },
  ]);
  const history = await node<HistoryStoreNode>('s1').history();
  const segments = { building: 'u4', room: '300' };
  const run = await measure(influx, points, async () => {
    if (perMessage === 1) {
      await feed(node('o1'), points, (i) => ({
        payload: i + 0.5,
        segments,
        deviceId: 'mkr-01',
        timestamp: T0 + i,
      }));
    } else {
      await feed(
        node('o1'),
        Math.ceil(points / perMessage),
        (m) => ({
          payload: Array.from({ length: Math.min(perMessage, points - m * perMessage) }, (_, k) => {
            const i = m * perMessage + k;
            return { value: i + 0.5, time: T0 + i };
          }),
          segments,
          deviceId: 'mkr-01',
        }),
        perMessage,
      );
    }
    // The last partial batch goes at once, as the raw client posts its last
    // body: waiting for the 1 s time batching would only time the timer.
    while (history.writer.state().written < points) {
      void history.writer.flush();
      await delay(2);
    }
  });
  await deploy([]);
  return run;
}

async function standard(influx: InfluxDb, db: string, points: number): Promise<number> {
  const port = new URL(influx.url).port;
  await deploy([
    {
      id: 'c1',
      type: 'influxdb',
      hostname: '127.0.0.1',
      port,
      protocol: 'http',
      database: db,
      influxdbVersion: '1.x',
    },
    { id: 'o2', type: 'influxdb out', influxdb: 'c1', measurement: 'bench', precision: 'ms' },
  ]);
  const started = performance.now();
  await feed(node('o2'), points, (i) => ({
    payload: [
      { value: i + 0.5, time: T0 + i },
      { building: 'u4', room: '300', device: 'mkr-01' },
    ],
  }));
  await waitForCount(influx, db, points);
  const seconds = (performance.now() - started) / 1000;
  await deploy([]);
  return points / seconds;
}

/** Points per message of each history-out run. */
const SHAPES = (process.argv[4] ?? '1,100,5000').split(',').map(Number);

async function main(): Promise<void> {
  withProductFlags();
  const influx = await startInfluxDb();
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-bench-'));
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  const loadBefore = load();
  await startRuntime(userDir);
  let dbs = 0;
  const freshDb = async () => {
    const db = `bench${++dbs}`;
    await createDb(influx, db);
    return db;
  };
  try {
    await raw(influx, await freshDb(), 20_000);
    for (const shape of SHAPES) await ours(influx, await freshDb(), 20_000, shape);
    // Rounds: raw then each shape, so every ratio compares runs made under
    // about the same load (the machine is shared).
    const runs: Record<string, Run[]> = { raw: [] };
    const ratios: Record<number, number[]> = {};
    for (let round = 0; round < ROUNDS; round++) {
      const rawRun = await raw(influx, await freshDb(), POINTS);
      runs.raw.push(rawRun);
      for (const shape of SHAPES) {
        const db = await freshDb();
        const run = await ours(influx, db, POINTS, shape);
        await waitForCount(influx, db, POINTS); // every point is in InfluxDB
        (runs[shape] ??= []).push(run);
        (ratios[shape] ??= []).push(run.rate / rawRun.rate);
      }
    }
    const standardRate = await standard(influx, await freshDb(), STANDARD_POINTS);
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    const us = (seconds: number) => (seconds * 1e6).toFixed(2);
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    console.log(
      `${fmt(POINTS)} points per run, ${ROUNDS} rounds; load average ${loadBefore} → ${load()};` +
        ` node options: ${nodeFlagsInUse()}`,
    );
    console.log('points/s per round; median CPU µs per point (this process, InfluxDB)');
    const row = (label: string, list: Run[]) =>
      console.log(
        `${label.padEnd(34)} ${list.map((r) => fmt(r.rate)).join(', ')} points/s;` +
          ` CPU ${us(median(list.map((r) => r.cpu)))} + ${us(median(list.map((r) => r.influxCpu)))} µs/point`,
      );
    row('raw line protocol, 5,000/batch', runs.raw);
    for (const shape of SHAPES) {
      row(`history-out, ${fmt(shape)} point${shape > 1 ? 's' : ''}/msg`, runs[shape]);
    }
    console.log(
      `node-red-contrib-influxdb out      ${fmt(standardRate)} points/s  (${fmt(STANDARD_POINTS)} points, 1 point/msg)`,
    );
    for (const shape of SHAPES) {
      console.log(
        `history-out / raw, ${fmt(shape)}/msg: median ${median(ratios[shape]).toFixed(2)}` +
          ` (rounds: ${ratios[shape].map((r) => r.toFixed(2)).join(', ')})  (goal ≥ 0.8)`,
      );
    }
    if (runs[1]) {
      console.log(
        `history-out / standard, both 1 point/msg: ${(median(runs[1].map((r) => r.rate)) / standardRate).toFixed(1)}  (goal ≥ 20)`,
      );
    }
  } finally {
    await RED.stop();
    await stopAllServices();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
