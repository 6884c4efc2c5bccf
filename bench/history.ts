// Benchmark: points/s into a local InfluxDB 1.x, in one run, through
//  1. history-out (Sensflow), one message per point (and, as a second
//     figure, 100 points per message), in a real Node-RED
//     runtime embedded here (RED.init, as the launcher does), until every
//     point is written;
//  2. raw line protocol in 5,000-point batches over one keep-alive HTTP
//     connection (the ceiling for any client);
//  3. node-red-contrib-influxdb's "influxdb out" node, the standard one, in
//     the same runtime, one message per point.
// Prints each rate and the ratios (goals: history-out ≥ 0.8 × raw, ≥ 20 × standard).
// Run: npm run build && npx tsx bench/history.ts [points]   (default 100000)
// (the runtime loads the built nodes from dist/, as a server does)
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

const POINTS = Number(process.argv[2] ?? 100_000);
const STANDARD_POINTS = Math.min(POINTS, 5_000);
const T0 = Date.now() - 3600_000;

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
async function raw(influx: InfluxDb, db: string, points: number): Promise<number> {
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
  const started = performance.now();
  for (let i = 0; i < points; i += 5000) {
    let body = '';
    for (let j = i; j < Math.min(points, i + 5000); j++) {
      body += `bench,building=u4,room=300,device=mkr-01 value=${j + 0.5} ${T0 + j}\n`;
    }
    await post(body);
  }
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return points / seconds;
}

/** Sends one message per point into `node`, yielding to the loop every 500. */
async function feed(node: Node, points: number, message: (i: number) => object): Promise<void> {
  for (let i = 0; i < points; i++) {
    node.receive(message(i) as never);
    if (i % 500 === 499) await new Promise((r) => setImmediate(r));
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
async function ours(influx: InfluxDb, db: string, points: number, perMessage = 1): Promise<number> {
  await deploy([
    { id: 's1', type: 'history-store', backend: 'influxdb', url: influx.url, database: db },
    { id: 'o1', type: 'history-out', store: 's1', measurement: 'bench' },
  ]);
  const history = await node<HistoryStoreNode>('s1').history();
  const segments = { building: 'u4', room: '300' };
  const started = performance.now();
  if (perMessage === 1) {
    await feed(node('o1'), points, (i) => ({
      payload: i + 0.5,
      segments,
      deviceId: 'mkr-01',
      timestamp: T0 + i,
    }));
  } else {
    await feed(node('o1'), points / perMessage, (m) => ({
      payload: Array.from({ length: perMessage }, (_, k) => {
        const i = m * perMessage + k;
        return { value: i + 0.5, time: T0 + i };
      }),
      segments,
      deviceId: 'mkr-01',
    }));
  }
  while (history.writer.state().written < points) await delay(5);
  const seconds = (performance.now() - started) / 1000;
  await deploy([]);
  return points / seconds;
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

async function main(): Promise<void> {
  const influx = await startInfluxDb();
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-bench-'));
  await startRuntime(userDir);
  try {
    for (const db of ['warmup', 'raw', 'ours', 'ours100', 'standard']) await createDb(influx, db);
    await raw(influx, 'warmup', 20_000);
    await ours(influx, 'warmup', 20_000);
    const rawRate = await raw(influx, 'raw', POINTS);
    const ourRate = await ours(influx, 'ours', POINTS);
    await waitForCount(influx, 'ours', POINTS);
    const ourArrayRate = await ours(influx, 'ours100', POINTS, 100);
    await waitForCount(influx, 'ours100', POINTS);
    const standardRate = await standard(influx, 'standard', STANDARD_POINTS);
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    console.log(
      `history-out, 1 point/message    ${fmt(ourRate)} points/s  (${fmt(POINTS)} points)`,
    );
    console.log(
      `history-out, 100 points/message ${fmt(ourArrayRate)} points/s  (${fmt(POINTS)} points)`,
    );
    console.log(
      `raw line protocol, 5,000/batch  ${fmt(rawRate)} points/s  (${fmt(POINTS)} points)`,
    );
    console.log(
      `node-red-contrib-influxdb out   ${fmt(standardRate)} points/s  (${fmt(STANDARD_POINTS)} points)`,
    );
    console.log(
      `history-out / raw:      ${(ourRate / rawRate).toFixed(2)} (1 point/message), ${(ourArrayRate / rawRate).toFixed(2)} (100 points/message)  (goal ≥ 0.8)`,
    );
    console.log(
      `history-out / standard: ${(ourRate / standardRate).toFixed(1)} (both 1 point/message)  (goal ≥ 20)`,
    );
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
