// Benchmark load generator process: opens the connections (EOT devices that
// log in, raw MQTT clients, echo clients) and drives the traffic, measuring
// from its own side. Started by bench/eot.ts; commands arrive over IPC.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { EotClient } from '../../lib/eot/client';
import { Framer } from '../../lib/eot/framer';
import { MqttLite } from './mqtt-lite';
import { bounded, source } from './load-util';

export interface Device {
  id: string;
  type: string;
  serial: string;
}

type Command =
  | { cmd: 'eot-login'; port: number; devices: Device[]; concurrency: number; subnet: number }
  | { cmd: 'mqtt-idle'; port: number; count: number; concurrency: number; subnet: number }
  | { cmd: 'close-all' }
  | {
      cmd: 'pairs-setup';
      name: string;
      kind: 'eot' | 'echo' | 'mqtt';
      port: number;
      /** EOT only: the second device of each pair logs in here (another instance). */
      port2?: number;
      devices: Device[];
      pairs: number;
      subnet: number;
    }
  | { cmd: 'pairs-run'; name: string; window: number; warmupMs: number; durationMs: number };

const sockets: Array<{ destroy(): void }> = [];
const now = () => performance.now();

async function eotLogin(c: Extract<Command, { cmd: 'eot-login' }>) {
  let ok = 0;
  let failed = 0;
  const started = now();
  await bounded(c.devices.length, c.concurrency, async (i) => {
    try {
      const client = await EotClient.connect({ port: c.port, localAddress: source(c.subnet, i) });
      sockets.push(client.socket);
      if (await client.login(c.devices[i])) ok++;
      else failed++;
    } catch {
      failed++;
    }
  });
  const ms = now() - started;
  return { ok, failed, ms, perSecond: (c.devices.length * 1000) / ms };
}

async function mqttIdle(c: Extract<Command, { cmd: 'mqtt-idle' }>) {
  let ok = 0;
  const started = now();
  await bounded(c.count, c.concurrency, async (i) => {
    try {
      sockets.push(await MqttLite.connect(c.port, `idle-${i}`, source(c.subnet, i)));
      ok++;
    } catch {
      // counted by what is missing
    }
  });
  return { ok, ms: now() - started };
}

interface Group {
  n: number;
  window: number;
  active: boolean;
  measuring: boolean;
  received: number;
  latencies: number[];
  send: Array<() => void>;
}
const groups = new Map<string, Group>();

/**
 * Opens `pairs` pairs of clients of one peer. In a run, each side keeps
 * `window` messages in flight to its partner; each message received is timed
 * and answered by a new one. For the echo peer a client's partner is itself:
 * one server hop either way.
 */
async function pairsSetup(c: Extract<Command, { cmd: 'pairs-setup' }>) {
  const n = c.pairs * 2;
  const group: Group = {
    n,
    window: 1,
    active: false,
    measuring: false,
    received: 0,
    latencies: [],
    send: new Array(n),
  };
  const pad = 'x'.repeat(40);
  const onMessage = (i: number, payload: string) => {
    if (!group.active) return;
    if (group.measuring) {
      group.received++;
      if (group.latencies.length < 500_000)
        group.latencies.push(now() - Number(payload.slice(0, payload.indexOf(':'))));
    }
    group.send[i]();
  };
  const idOf = (i: number) => c.devices[i]?.id ?? `p${i}`;
  const partner = (i: number) => (c.kind === 'echo' ? i : i ^ 1);
  const frameFor = (i: number) => (payload: string) =>
    Buffer.from(`${idOf(i)}|${idOf(partner(i))}|MSG|${payload}\u0004`);

  await bounded(n, 200, async (i) => {
    const frame = frameFor(i);
    if (c.kind === 'eot' || c.kind === 'echo') {
      let socket: net.Socket;
      if (c.kind === 'eot') {
        const port = c.port2 !== undefined && i % 2 === 1 ? c.port2 : c.port;
        const client = await EotClient.connect({ port, localAddress: source(c.subnet, i) });
        if (!(await client.login(c.devices[i]))) throw new Error(`login ${c.devices[i].id}`);
        // From here on, the same reading code as for the echo peer.
        socket = client.detach();
      } else {
        socket = net.connect({
          port: c.port,
          host: '127.0.0.1',
          localAddress: source(c.subnet, i),
        });
        socket.setNoDelay(true);
        await new Promise((resolve) => socket.once('connect', resolve));
      }
      sockets.push(socket);
      const framer = new Framer();
      socket.on('data', (chunk: Buffer) =>
        framer.push(chunk, (raw) => {
          const text = raw.toString('utf8', 0, raw.length - 1);
          onMessage(i, text.slice(text.indexOf('|MSG|') + 5));
        }),
      );
      group.send[i] = () => socket.write(frame(`${now()}:${pad}`));
    } else {
      const client = await MqttLite.connect(c.port, `pair-${i}`, source(c.subnet, i));
      sockets.push(client);
      await client.subscribe(`pair/${i}`);
      // The same bytes as the EOT frame, routed by topic.
      client.onPublish = (_topic, payload) => {
        const text = payload.toString('utf8', 0, payload.length - 1);
        onMessage(i, text.slice(text.indexOf('|MSG|') + 5));
      };
      const topic = `pair/${partner(i)}`;
      group.send[i] = () => client.publish(topic, frame(`${now()}:${pad}`));
    }
  });
  groups.set(c.name, group);
  return { connections: n };
}

/** Runs the traffic of one group: warm-up, measure, then lets what is in flight settle. */
async function pairsRun(c: Extract<Command, { cmd: 'pairs-run' }>) {
  const group = groups.get(c.name)!;
  group.received = 0;
  group.latencies = [];
  group.active = true;
  for (let i = 0; i < group.n; i++) for (let w = 0; w < c.window; w++) group.send[i]();
  await new Promise((r) => setTimeout(r, c.warmupMs));
  group.measuring = true;
  const started = now();
  await new Promise((r) => setTimeout(r, c.durationMs));
  group.measuring = false;
  group.active = false;
  const seconds = (now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 500));
  const latencies = group.latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return {
    perSecond: group.received / seconds,
    p50: q(0.5),
    p99: q(0.99),
    messages: group.received,
  };
}

process.on('message', (command: Command) => {
  const run = async () => {
    switch (command.cmd) {
      case 'eot-login':
        return eotLogin(command);
      case 'mqtt-idle':
        return mqttIdle(command);
      case 'pairs-setup':
        return pairsSetup(command);
      case 'pairs-run':
        return pairsRun(command);
      case 'close-all':
        for (const s of sockets.splice(0)) s.destroy();
        groups.clear();
        await new Promise((r) => setTimeout(r, 500));
        return {};
    }
  };
  run().then(
    (result) => process.send!({ ok: true, result }),
    (err: unknown) => process.send!({ ok: false, error: String(err) }),
  );
});
process.send!({ ready: true });
