// Runs a stock Node-RED (the `node-red` package's own red.js, not Sensflow's
// launcher) with the Sensflow nodes installed, as an integrator's server
// would be: its own settings file, user dir and admin login, on a free
// loopback port. Stopped by signal.
import bcrypt from 'bcryptjs';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { delay, freePort } from './net';
import { ROOT } from './sensflow-process';

export interface StockNodeRed {
  url: string;
  userDir: string;
  output(): string;
  stop(): Promise<void>;
}

export async function startStockNodeRed(admin: {
  user: string;
  password: string;
}): Promise<StockNodeRed> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stock-node-red-'));
  const port = await freePort();
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    credentialSecret: 'stock node-red test secret',
    // "Installed" as a palette module would be: Node-RED reads our
    // package.json's node-red section.
    nodesDir: [ROOT],
    adminAuth: {
      type: 'credentials',
      users: [
        { username: admin.user, password: bcrypt.hashSync(admin.password, 8), permissions: '*' },
      ],
    },
    telemetry: { enabled: false, updateNotification: false },
    logging: { console: { level: 'info', metrics: false, audit: false } },
  };
  const settingsFile = path.join(userDir, 'settings.js');
  fs.writeFileSync(settingsFile, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  const redJs = path.join(path.dirname(require.resolve('node-red/package.json')), 'red.js');
  const child: ChildProcess = spawn(
    process.execPath,
    [redJs, '--settings', settingsFile, '--userDir', userDir],
    { cwd: userDir, env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false' } },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  process.on('exit', () => child.kill('SIGKILL'));

  const deadline = Date.now() + 60_000;
  while (!/Server now running at/.test(out)) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Node-RED did not start:\n${out}`);
    }
    await delay(50);
  }
  return {
    url: `http://127.0.0.1:${port}/`,
    userDir,
    output: () => out,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}
