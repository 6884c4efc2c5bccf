// Runs a benchmark with the options bin/sensflow gives node (its first line),
// so that code measured in the benchmark's own process runs as it does in
// Sensflow. V8 reads them only at start, so a process without them starts
// itself again with them.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../lib/util/package-root';

/** The node options on bin/sensflow's first line (`#!/usr/bin/env -S node …`). */
export function productNodeFlags(): string[] {
  const first = fs.readFileSync(path.join(packageRoot(), 'bin', 'sensflow'), 'utf8').split('\n')[0];
  return first.split(/\s+/).filter((word) => word.startsWith('--'));
}

/** Returns when this process has the product's node options; otherwise runs
 *  this same command again with them and exits with its exit code.
 *  BENCH_NODE_DEFAULTS=1 runs on node's defaults instead (to compare). */
export function withProductFlags(): void {
  if (process.env.BENCH_NODE_DEFAULTS === '1') return;
  const missing = productNodeFlags().filter((flag) => !process.execArgv.includes(flag));
  if (missing.length === 0) return;
  const result = spawnSync(
    process.execPath,
    [...missing, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit' },
  );
  process.exit(result.status ?? 1);
}

/** The product's node options this process runs with, as text. */
export function nodeFlagsInUse(): string {
  const used = productNodeFlags().filter((flag) => process.execArgv.includes(flag));
  return used.length > 0 ? used.join(' ') : "node's defaults";
}
