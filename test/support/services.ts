// Real MariaDB, InfluxDB 1.x and Mosquitto for the tests: started from the
// machine's binaries on free loopback ports in temp dirs, on first use, and
// stopped when the run ends (see hooks.ts). Never mocks.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createConnection } from 'mysql2/promise';
import { ensurePackages } from './packages';
import { freePort, waitFor, waitForPort } from './net';

const started: ManagedProcess[] = [];
const tempDirs: string[] = [];

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sensflow-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

/** A server process that can be stopped and started again on the same ports
 *  and data, for outage tests. */
export class ManagedProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: string[],
    private readonly logFile: string,
    private readonly ready: () => Promise<void>,
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  /** The process id while it runs (benchmarks read its CPU time). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.child) return;
    const log = fs.openSync(this.logFile, 'a');
    const child = spawn(this.command, this.args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    if (!started.includes(this)) started.push(this);
    const failed = this.exited.then(() => {
      throw new Error(`${this.name} exited at start; log:\n${this.tail()}`);
    });
    try {
      await Promise.race([this.ready(), failed]);
    } catch (err) {
      await this.stop();
      throw err;
    }
    failed.catch(() => undefined);
  }

  /** Stops the process: SIGTERM (or SIGKILL for a crash test), then waits. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  killNow(): void {
    if (this.child && this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  /** Everything the process wrote so far ('' before it wrote anything). */
  log(): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  tail(lines = 30): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

// ---------------------------------------------------------------- MariaDB

export interface MariaDb {
  host: string;
  port: number;
  /** A fresh, empty database for one test file; its URL for SENSFLOW_MYSQL_URL. */
  createDatabase(prefix?: string): Promise<string>;
  process: ManagedProcess;
}

let mariadbPromise: Promise<MariaDb> | undefined;

export function mariadb(): Promise<MariaDb> {
  mariadbPromise ??= startMariaDb();
  return mariadbPromise;
}

async function startMariaDb(): Promise<MariaDb> {
  await ensurePackages(['mariadb-install-db', 'mariadbd'], ['mariadb-server']);
  const dir = tempDir('mariadb');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  execFileSync(
    'mariadb-install-db',
    [
      '--no-defaults',
      `--datadir=${dir}/data`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      ...asRoot,
    ],
    { stdio: 'pipe' },
  );
  const proc = new ManagedProcess(
    'mariadb',
    which('mariadbd'),
    [
      '--no-defaults',
      `--datadir=${dir}/data`,
      `--socket=${dir}/mysqld.sock`,
      `--pid-file=${dir}/mysqld.pid`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=64M',
      // Durability is not under test here; speed the suite up.
      '--innodb-flush-log-at-trx-commit=2',
      '--max-connections=500',
      ...asRoot,
    ],
    path.join(dir, 'mariadb.log'),
    async () => {
      await waitForPort(port, 30_000);
      await waitFor(async () => {
        const conn = await createConnection({ host: '127.0.0.1', port, user: 'root' });
        await conn.end();
      }, 30_000);
    },
  );
  await proc.start();
  const password = crypto.randomBytes(12).toString('hex');
  const admin = await createConnection({ host: '127.0.0.1', port, user: 'root' });
  await admin.query(`CREATE USER 'sensflow'@'%' IDENTIFIED BY '${password}'`);
  await admin.query(`GRANT ALL ON *.* TO 'sensflow'@'%'`);
  await admin.end();
  let counter = 0;
  return {
    host: '127.0.0.1',
    port,
    process: proc,
    async createDatabase(prefix = 'test') {
      const name = `${prefix.replace(/[^A-Za-z0-9_]/g, '_')}_${process.pid}_${++counter}`;
      const conn = await createConnection({ host: '127.0.0.1', port, user: 'root' });
      await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
      await conn.end();
      return `mysql://sensflow:${password}@127.0.0.1:${port}/${name}`;
    },
  };
}

// ---------------------------------------------------------------- InfluxDB 1.x

export interface InfluxDb {
  url: string;
  port: number;
  process: ManagedProcess;
}

let influxPromise: Promise<InfluxDb> | undefined;

/** The shared InfluxDB of the run. Tests that stop it use `startInfluxDb()`. */
export function influxdb(): Promise<InfluxDb> {
  influxPromise ??= startInfluxDb();
  return influxPromise;
}

/** A private InfluxDB, for tests that take it down and bring it back. */
export async function startInfluxDb(): Promise<InfluxDb> {
  await ensurePackages(['influxd'], ['influxdb']);
  const dir = tempDir('influxdb');
  const port = await freePort();
  const rpcPort = await freePort();
  const config = path.join(dir, 'influxdb.conf');
  fs.writeFileSync(
    config,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${dir}/meta"`,
      '[data]',
      `  dir = "${dir}/data"`,
      `  wal-dir = "${dir}/wal"`,
      '  query-log-enabled = false',
      '[http]',
      `  bind-address = "127.0.0.1:${port}"`,
      '  log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '[continuous_queries]',
      '  run-interval = "1s"',
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${port}`;
  const proc = new ManagedProcess(
    'influxdb',
    which('influxd'),
    ['run', '-config', config],
    path.join(dir, 'influxdb.log'),
    () =>
      waitFor(async () => {
        const res = await fetch(`${url}/ping`);
        if (res.status !== 204) throw new Error(`ping answered ${res.status}`);
      }, 30_000),
  );
  await proc.start();
  return { url, port, process: proc };
}

// ---------------------------------------------------------------- Mosquitto

export interface MosquittoOptions {
  /** Run the dynamic-security plugin with this admin login; anonymous access off. */
  dynsec?: { adminUser: string; adminPassword: string };
  /** More lines for mosquitto.conf (e.g. `set_tcp_nodelay true`). */
  config?: string[];
}

export interface Mosquitto {
  url: string;
  port: number;
  process: ManagedProcess;
  /** Absolute path of the plugin's JSON state, when dynsec is on. */
  dynsecFile?: string;
}

/** A Mosquitto of one's own (brokers are cheap; tests restart them). */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  await ensurePackages(['mosquitto', 'mosquitto_ctrl'], ['mosquitto', 'mosquitto-clients']);
  const dir = tempDir('mosquitto');
  const port = await freePort();
  const lines = [
    `listener ${port} 127.0.0.1`,
    'persistence false',
    'log_type error',
    'log_type warning',
  ];
  // As root Mosquitto drops to its own user, which cannot read our temp dir
  // (the dynsec file, which it also writes): keep root for the test broker.
  if (process.getuid?.() === 0) lines.push('user root');
  let dynsecFile: string | undefined;
  if (options.dynsec) {
    dynsecFile = path.join(dir, 'dynamic-security.json');
    execFileSync(
      'mosquitto_ctrl',
      ['dynsec', 'init', dynsecFile, options.dynsec.adminUser, options.dynsec.adminPassword],
      { stdio: 'pipe' },
    );
    lines.push(
      'allow_anonymous false',
      `plugin ${dynsecPlugin()}`,
      `plugin_opt_config_file ${dynsecFile}`,
    );
  } else {
    lines.push('allow_anonymous true');
  }
  lines.push(...(options.config ?? []));
  const config = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(config, lines.join('\n') + '\n');
  const proc = new ManagedProcess(
    'mosquitto',
    which('mosquitto'),
    ['-c', config],
    path.join(dir, 'mosquitto.log'),
    () => waitForPort(port, 15_000),
  );
  await proc.start();
  return { url: `mqtt://127.0.0.1:${port}`, port, process: proc, dynsecFile };
}

function dynsecPlugin(): string {
  const candidates = [
    '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
    '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so',
    '/usr/lib/mosquitto_dynamic_security.so',
  ];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new Error('mosquitto_dynamic_security.so not found (Debian package mosquitto)');
  return found;
}

// ---------------------------------------------------------------- lifecycle

function which(binary: string): string {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const candidate = path.join(dir, binary);
    if (fs.existsSync(candidate)) return candidate;
  }
  return binary;
}

/** Stops every server started in this run and removes their temp dirs. */
export async function stopAllServices(): Promise<void> {
  await Promise.all(started.map((p) => p.stop()));
  started.length = 0;
  mariadbPromise = undefined;
  influxPromise = undefined;
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

// A crashed or interrupted run must not leave servers behind.
process.on('exit', () => started.forEach((p) => p.killNow()));
