// Runs the benchmarks of bench/, one after another, each in its own process
// (a benchmark starts its own servers and runtime): `npm run bench` runs
// them all, `npm run bench -- history` only the ones named. Each prints its
// rates and ratios; record them in BENCHMARKS.md with the command.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const dir = __dirname;
const all = fs
  .readdirSync(dir)
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts')
  .map((file) => file.slice(0, -'.ts'.length))
  .sort();

function main(): number {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !all.includes(name));
  if (unknown.length > 0) {
    console.error(`no benchmark named ${unknown.join(', ')}; there are: ${all.join(', ')}`);
    return 2;
  }
  let failed = 0;
  for (const name of wanted.length > 0 ? wanted : all) {
    console.log(`\n== bench/${name}.ts`);
    const result = spawnSync(process.execPath, ['-r', 'tsx/cjs', path.join(dir, `${name}.ts`)], {
      stdio: 'inherit',
    });
    if (result.status !== 0) {
      console.error(`bench/${name}.ts failed (${result.signal ?? `exit code ${result.status}`})`);
      failed += 1;
    }
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = main();
