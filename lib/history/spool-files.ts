// The files of the history spool: scanning lines, the cursor file, fsyncs of
// files and folders, and the lock that keeps two processes off one spool.
import fs from 'node:fs';
import { FileHandle, open, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const NEWLINE = 10;
export const HASH = 35;

export class SpoolLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(`the history spool ${dir} is in use by process ${pid}`);
    this.name = 'SpoolLockedError';
  }
}

/** Whole lines of `buf` holding at most `max` points: bytes taken, points. */
export function scanLines(buf: Buffer, max: number): { taken: number; points: number } {
  let taken = 0;
  let points = 0;
  while (points < max) {
    const nl = buf.indexOf(NEWLINE, taken);
    if (nl < 0) break;
    if (buf[taken] !== HASH && nl > taken) points += 1;
    taken = nl + 1;
  }
  return { taken, points };
}

export function pointLines(body: Buffer): string[] {
  return body
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'));
}

export async function readCursor(
  file: string,
): Promise<{ seq: number; offset: number } | undefined> {
  try {
    const raw = JSON.parse(await readFile(file, 'utf8')) as { seq?: unknown; offset?: unknown };
    if (Number.isSafeInteger(raw.seq) && Number.isSafeInteger(raw.offset)) {
      return { seq: raw.seq as number, offset: raw.offset as number };
    }
  } catch {
    // No cursor yet, or a torn one: start from the oldest segment (resending
    // is harmless, skipping would lose points).
  }
  return undefined;
}

/** Bytes of the cursor record: room for any seq and offset, padded with spaces. */
const CURSOR_BYTES = 64;

/**
 * The cursor file, kept open and rewritten in place with a record of fixed
 * size: one write per commit instead of a new file and a rename. Not
 * fsynced: a lost or torn cursor only means points are sent again, which the
 * backends absorb.
 */
export class CursorFile {
  private constructor(private readonly handle: FileHandle) {}

  static async open(file: string): Promise<CursorFile> {
    const { O_RDWR, O_CREAT } = fs.constants;
    return new CursorFile(await open(file, O_RDWR | O_CREAT, 0o600));
  }

  async write(seq: number, offset: number): Promise<void> {
    const record = Buffer.from(JSON.stringify({ seq, offset }).padEnd(CURSOR_BYTES - 1) + '\n');
    await this.handle.write(record, 0, record.length, 0);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

export async function truncateFile(file: string, length: number): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.truncate(length);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some filesystems cannot fsync a directory; the data files are synced.
  } finally {
    await handle.close();
  }
}

/** Takes the directory's lock file, replacing one left by a dead process. */
export async function lock(dir: string): Promise<void> {
  const file = path.join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number(await readFile(file, 'utf8').catch(() => ''));
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new SpoolLockedError(dir, pid);
    }
    await rm(file, { force: true });
  }
  throw new Error(`cannot lock the history spool ${dir}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
