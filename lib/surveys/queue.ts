// The gateway's store-and-forward queue on disk: one file per batch, written
// and fsynced before the meter is told "Surveys arrived", removed once the
// cloud has confirmed it. So neither a cloud outage nor a restart of the
// gateway (kill -9 included) loses a batch a meter was told had arrived.
// A removal lost in a crash only sends a batch again, which the cloud keeps
// once (it confirms by id).
//
// Layout: `0000000001.json`, … (pending batches, oldest first), `*.tmp`
// (writes not finished: never acknowledged, deleted on open), `refused/`
// (batches the cloud refused, or files that cannot be read, kept for a look).
import fs from 'node:fs/promises';
import path from 'node:path';
import { BATCH_ID, SurveyBatch } from './batch';
import { Logger } from '../util/log';

export interface QueuedBatch extends SurveyBatch {
  /** Position in the queue: increasing, never reused while the folder lives. */
  seq: number;
  /** Identifies the content (see contentDigest). */
  digest: string;
  /** Who sent it, e.g. `192.168.1.2:50123`. */
  source: string;
}

export interface QueueOptions {
  dir: string;
  /** Batches kept at most; beyond it new ones are refused. */
  maxBatches: number;
  logger: Logger;
}

export class QueueFullError extends Error {
  constructor(max: number) {
    super(`the gateway keeps ${max} batches at most and is full: send again later`);
    this.name = 'QueueFullError';
  }
}

const FILE = /^(\d{10})\.json$/;

export class SurveyQueue {
  private batches: QueuedBatch[] = [];
  private nextSeq = 1;
  private writing = new Set<Promise<unknown>>();
  private closed = false;

  private constructor(private readonly options: QueueOptions) {}

  /** Opens the folder, finishing what a crash left behind. */
  static async open(options: QueueOptions): Promise<SurveyQueue> {
    const queue = new SurveyQueue({ ...options, dir: path.resolve(options.dir) });
    await queue.recover();
    return queue;
  }

  get size(): number {
    return this.batches.length;
  }

  get dir(): string {
    return this.options.dir;
  }

  /** The oldest pending batch. */
  peek(): QueuedBatch | undefined {
    return this.batches[0];
  }

  /** The pending batches, oldest first. */
  list(): readonly QueuedBatch[] {
    return this.batches.slice();
  }

  /** A pending batch with this content, if any. */
  findDigest(digest: string): QueuedBatch | undefined {
    return this.batches.find((b) => b.digest === digest);
  }

  /** Writes a batch to disk; resolves once it is there for good (fsynced). */
  async add(batch: Omit<QueuedBatch, 'seq'>): Promise<QueuedBatch> {
    if (this.closed) throw new Error('the survey queue is closed');
    if (this.batches.length + this.writing.size >= this.options.maxBatches) {
      throw new QueueFullError(this.options.maxBatches);
    }
    const queued: QueuedBatch = { ...batch, seq: this.nextSeq++ };
    const write = this.writeFile(queued);
    this.writing.add(write);
    try {
      await write;
    } finally {
      this.writing.delete(write);
    }
    // Keep the queue in order even when writes finish out of order.
    const at = this.batches.findIndex((b) => b.seq > queued.seq);
    if (at < 0) this.batches.push(queued);
    else this.batches.splice(at, 0, queued);
    return queued;
  }

  /** Forgets a batch the cloud confirmed. */
  async remove(seq: number): Promise<void> {
    const index = this.batches.findIndex((b) => b.seq === seq);
    if (index < 0) return;
    this.batches.splice(index, 1);
    await fs.rm(this.file(seq), { force: true });
  }

  /** Sets a batch aside (the cloud refused it), with the reason, under refused/. */
  async refuse(seq: number, reason: string): Promise<void> {
    const index = this.batches.findIndex((b) => b.seq === seq);
    if (index < 0) return;
    const [batch] = this.batches.splice(index, 1);
    await this.setAside(path.basename(this.file(seq)), JSON.stringify({ ...batch, reason }));
    await fs.rm(this.file(seq), { force: true });
  }

  /** Waits for writes under way; the files stay for the next open. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.writing]);
  }

  private file(seq: number): string {
    return path.join(this.options.dir, `${String(seq).padStart(10, '0')}.json`);
  }

  private async writeFile(batch: QueuedBatch): Promise<void> {
    const file = this.file(batch.seq);
    const tmp = `${file}.tmp`;
    const handle = await fs.open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(batch));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
    await syncDir(this.options.dir);
  }

  private async setAside(name: string, content: string): Promise<void> {
    const dir = path.join(this.options.dir, 'refused');
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await fs.writeFile(path.join(dir, name), content, { mode: 0o600 });
  }

  private async recover(): Promise<void> {
    const dir = this.options.dir;
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const names = (await fs.readdir(dir)).sort();
    for (const name of names) {
      if (name.endsWith('.tmp')) {
        await fs.rm(path.join(dir, name), { force: true });
        continue;
      }
      const match = FILE.exec(name);
      if (!match) continue;
      const seq = Number(match[1]);
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
      const raw = await fs.readFile(path.join(dir, name), 'utf8');
      const batch = readBatch(raw, seq);
      if (batch) {
        this.batches.push(batch);
      } else {
        this.options.logger.warn(`survey queue: ${name} cannot be read; set aside in refused/`);
        await this.setAside(name, raw);
        await fs.rm(path.join(dir, name), { force: true });
      }
    }
  }
}

function readBatch(raw: string, seq: number): QueuedBatch | undefined {
  try {
    const b = JSON.parse(raw) as Partial<QueuedBatch>;
    if (
      typeof b.id === 'string' &&
      BATCH_ID.test(b.id) &&
      Number.isSafeInteger(b.receivedAt) &&
      Array.isArray(b.lines) &&
      b.lines.every((l) => typeof l === 'string' && !l.includes('\n')) &&
      typeof b.digest === 'string'
    ) {
      return {
        id: b.id,
        receivedAt: b.receivedAt as number,
        lines: b.lines,
        digest: b.digest,
        source: typeof b.source === 'string' ? b.source : '',
        seq,
      };
    }
  } catch {
    // Not JSON: falls through to "cannot be read".
  }
  return undefined;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some filesystems cannot fsync a directory; the file itself is synced.
  } finally {
    await handle.close();
  }
}
