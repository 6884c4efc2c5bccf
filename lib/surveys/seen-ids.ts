// The cloud's memory of the batches it has taken, by id: a batch sent again
// because its confirmation was lost is confirmed again without being taken
// twice. Kept in an append-only file (one id a line, fsynced before the
// confirmation goes out) so it survives a restart of the cloud; the newest
// `maxIds` are kept, far more than a gateway ever has in flight.
import fs from 'node:fs/promises';
import path from 'node:path';

export interface SeenIdsOptions {
  file: string;
  maxIds?: number;
}

export const DEFAULT_MAX_IDS = 100_000;

export class SeenIds {
  private readonly ids = new Set<string>();
  private handle?: fs.FileHandle;
  private lines = 0;
  private chain: Promise<void> = Promise.resolve();
  private readonly maxIds: number;

  private constructor(
    private readonly file: string,
    maxIds: number,
  ) {
    this.maxIds = maxIds;
  }

  static async open(options: SeenIdsOptions): Promise<SeenIds> {
    const seen = new SeenIds(path.resolve(options.file), options.maxIds ?? DEFAULT_MAX_IDS);
    await seen.load();
    return seen;
  }

  get size(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Remembers an id; resolves once it is on disk. */
  add(id: string): Promise<void> {
    if (this.ids.has(id)) return this.chain;
    this.ids.add(id);
    if (this.ids.size > this.maxIds) this.ids.delete(this.ids.values().next().value as string);
    this.chain = this.chain
      .catch(() => undefined)
      .then(async () => {
        if (!this.handle) throw new Error('the list of stored batches is closed');
        await this.handle.appendFile(`${id}\n`);
        await this.handle.datasync();
        this.lines += 1;
        if (this.lines > 2 * this.maxIds) await this.compact();
      });
    return this.chain;
  }

  async close(): Promise<void> {
    await this.chain.catch(() => undefined);
    await this.handle?.close();
    this.handle = undefined;
  }

  private async load(): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    let text = '';
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    // A line cut by a crash was never confirmed: drop it.
    const end = text.lastIndexOf('\n') + 1;
    if (end < text.length) await fs.truncate(this.file, Buffer.byteLength(text.slice(0, end)));
    const ids = text
      .slice(0, end)
      .split('\n')
      .filter((id) => id !== '');
    for (const id of ids.slice(-this.maxIds)) this.ids.add(id);
    this.lines = ids.length;
    this.handle = await fs.open(this.file, 'a', 0o600);
  }

  /** Rewrites the file with the ids kept, dropping the forgotten ones. */
  private async compact(): Promise<void> {
    const tmp = `${this.file}.tmp`;
    await fs.writeFile(tmp, [...this.ids].map((id) => `${id}\n`).join(''), { mode: 0o600 });
    const tmpHandle = await fs.open(tmp, 'r');
    await tmpHandle.sync();
    await tmpHandle.close();
    await this.handle?.close();
    await fs.rename(tmp, this.file);
    this.handle = await fs.open(this.file, 'a', 0o600);
    this.lines = this.ids.size;
  }
}
