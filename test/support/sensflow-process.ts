// Runs the real `bin/sensflow` in a child process, as a user would, on free
// loopback ports and a temp home; reads what it prints; stops it by signal.
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { delay, freePort, freeUdpPort } from './net';

export const ROOT = path.join(__dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'sensflow');

export interface SensflowProcess {
  child: ChildProcess;
  home: string;
  url: string;
  httpPort: number;
  mqttPort: number;
  /** The generated admin password, when this start printed one. */
  password?: string;
  output(): string;
  /** Resolves when the output (from `from` on) matches. */
  waitForOutput(pattern: RegExp, timeoutMs?: number, from?: number): Promise<void>;
  /** Sends the signal and resolves with the exit code and how long it took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

/** Environment for a run on free loopback ports in a new (or given) home,
 *  without the demo devices (page tests switch them on). */
export async function testEnv(home?: string): Promise<Record<string, string>> {
  return {
    SENSFLOW_DEMO: 'off',
    SENSFLOW_HOME: home ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-home-')),
    SENSFLOW_HOST: '127.0.0.1',
    SENSFLOW_PORT: String(await freePort()),
    SENSFLOW_MQTT_HOST: '127.0.0.1',
    SENSFLOW_MQTT_PORT: String(await freePort()),
    SENSFLOW_EOT_PORT: String(await freePort()),
    SENSFLOW_SURVEY_HOST: '127.0.0.1',
    SENSFLOW_SURVEY_UDP_PORT: String(await freeUdpPort()),
    SENSFLOW_SURVEY_CLOUD_PORT: String(await freePort()),
  };
}

function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  // Start from a clean slate: no SENSFLOW_* of the developer's shell leaks in.
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('SENSFLOW_')),
  );
  return { ...base, ...env };
}

/** Runs a sensflow command to completion (for commands other than start). */
export function runSensflow(
  args: string[],
  env: Record<string, string>,
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, { env: childEnv(env), cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `nodeArgs`: options for node itself (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
export async function startSensflowProcess(
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<SensflowProcess> {
  const child =
    nodeArgs.length > 0
      ? spawn(process.execPath, [...nodeArgs, BIN, 'start'], { env: childEnv(env), cwd: ROOT })
      : spawn(BIN, ['start'], { env: childEnv(env), cwd: ROOT });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  running.add(child);
  exited.then(() => running.delete(child));

  const waitForOutput = async (pattern: RegExp, timeoutMs = 30_000, from = 0) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(out.slice(from))) {
      if (child.exitCode !== null)
        throw new Error(`sensflow exited before printing ${pattern}:\n${out}`);
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${pattern}; output:\n${out}`);
      await delay(50);
    }
  };
  await waitForOutput(/Sensflow is running\./, 60_000);
  const url = /Editor:\s+(\S+)/.exec(out)![1];
  const password = /Admin password \(generated[^\n]*\n\s+(\S+)/.exec(out)?.[1];
  return {
    child,
    home: env.SENSFLOW_HOME,
    url,
    httpPort: Number(new URL(url).port),
    mqttPort: Number(env.SENSFLOW_MQTT_PORT),
    password,
    output: () => out,
    waitForOutput,
    async stop(signal = 'SIGTERM') {
      const started = Date.now();
      if (child.exitCode === null) child.kill(signal);
      const code = await exited;
      return { code, ms: Date.now() - started };
    },
  };
}

const running = new Set<ChildProcess>();
process.on('exit', () => running.forEach((c) => c.kill('SIGKILL')));

/** A token for Node-RED's admin API, from a login with user and password. */
export async function adminToken(url: string, username: string, password: string): Promise<string> {
  const res = await fetch(new URL('auth/token', url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: 'node-red-admin',
      grant_type: 'password',
      scope: '*',
      username,
      password,
    }),
  });
  if (res.status !== 200) throw new Error(`login answered ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Deploys `flow` through the admin API and resolves once the runtime has started it. */
export async function deployFlows(
  sf: SensflowProcess,
  token: string,
  flow: unknown[],
  type: 'full' | 'flows' | 'nodes' = 'full',
): Promise<void> {
  const from = sf.output().length;
  const res = await fetch(new URL('flows', sf.url), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'Node-RED-Deployment-Type': type,
    },
    body: JSON.stringify(flow),
  });
  if (res.status !== 200 && res.status !== 204) {
    throw new Error(`deploy answered ${res.status}: ${await res.text()}`);
  }
  await sf.waitForOutput(/Started (modified )?flows/, 30_000, from);
}
