// A benchmark's child process (a server or a load generator) spoken to over
// IPC: it sends one message when ready, then one answer per request, in order
// (`{ok: false, error}` for a failed one), and stops on `{cmd: 'stop'}`.
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const TSX = require.resolve('tsx/cjs');

export interface Peer {
  child: ChildProcess;
  /** What the child said when it was ready (a server: its port). */
  ready: { port?: number };
  ask<T>(message: object): Promise<T>;
  stop(): Promise<void>;
}

export interface PeerOptions {
  /** Run with --expose-gc, for children that measure their memory. */
  gc?: boolean;
  /** Write a CPU profile into BENCH_PROFILE=<dir>, when that is set. */
  profile?: boolean;
}

/** Starts `file` (relative to bench/) with `args` and waits until it is ready. */
export async function startPeer(
  file: string,
  args: string[] = [],
  options: PeerOptions = {},
): Promise<Peer> {
  const dir = process.env.BENCH_PROFILE;
  const profile = dir && options.profile ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
  const proc = spawn(
    process.execPath,
    [
      ...(options.gc ? ['--expose-gc'] : []),
      ...profile,
      '--require',
      TSX,
      path.join(__dirname, '..', file),
      ...args,
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const queue: Array<(m: unknown) => void> = [];
  proc.on('message', (m) => queue.shift()?.(m));
  const ready = await new Promise<{ port?: number }>((resolve, reject) => {
    queue.push(resolve as (m: unknown) => void);
    proc.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    child: proc,
    ready,
    ask: <T>(message: object) =>
      new Promise<T>((resolve, reject) => {
        queue.push((m) => {
          const r = m as { ok?: boolean; error?: string; result?: T };
          if (r.ok === false) reject(new Error(r.error));
          else resolve((r.result ?? m) as T);
        });
        proc.send(message);
      }),
    stop: async () => {
      proc.send({ cmd: 'stop' });
      const timer = setTimeout(() => {
        console.error(`${file} did not stop: killed`);
        proc.kill('SIGKILL');
      }, 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
