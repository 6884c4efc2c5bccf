// Makes sure the servers the tests run are installed: as root, from Debian's
// packages; otherwise a clear message naming the packages to install.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

let updated = false;

function found(binary: string): boolean {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin']);
  return dirs.some((dir) => fs.existsSync(path.join(dir, binary)));
}

export async function ensurePackages(binaries: string[], packages: string[]): Promise<void> {
  const missing = binaries.filter((b) => !found(b));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing ${missing.join(', ')}: install the Debian packages with ` +
        `"sudo apt-get install ${packages.join(' ')}" and run the tests again`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!updated) {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    updated = true;
  }
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
    stdio: 'inherit',
    env,
  });
  const still = binaries.filter((b) => !found(b));
  if (still.length > 0)
    throw new Error(`installed ${packages.join(' ')} but ${still.join(', ')} is still missing`);
}
