// The spool: order, commits, segments, recovery after a crash (including a
// real kill -9 while appending), torn last lines, the size limit with its
// oldest-first overflow, and the lock.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Spool, SpoolLockedError } from '../../../lib/history/spool';
import { FakeClock } from '../../support/fake-clock';

const ROOT = path.join(__dirname, '..', '..', '..');

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-spool-'));
}

function lines(from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `m,tag=x value=${from + i} ${from + i}000000`);
}

/** Reads and commits everything; returns the point lines in order. */
async function drain(spool: Spool, batch = 1000): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const b = await spool.read(batch);
    if (!b) return out;
    out.push(...b.lines());
    await spool.commit(b);
  }
}

/** A copy of the spool's files as a crash would leave them (no close, no lock release). */
function crashCopy(dir: string): string {
  const copy = tempDir();
  for (const name of fs.readdirSync(dir)) {
    if (name !== 'lock') fs.copyFileSync(path.join(dir, name), path.join(copy, name));
  }
  return copy;
}

describe('history spool', () => {
  let clock: FakeClock;
  const open: Spool[] = [];
  const openSpool = async (dir: string, maxBytes = 1 << 30, segmentBytes = 4096) => {
    const spool = await Spool.open({ dir, maxBytes, segmentBytes, clock });
    open.push(spool);
    return spool;
  };

  beforeEach(() => {
    clock = new FakeClock();
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  it('gives points back in order, across segments, until committed', async () => {
    const dir = tempDir();
    const spool = await openSpool(dir);
    for (let i = 0; i < 10; i++) await spool.append(lines(i * 100, 100));
    assert.equal(spool.pending, 1000);
    assert.ok(fs.readdirSync(dir).filter((f) => f.endsWith('.lp')).length > 3, 'several segments');
    const first = await spool.read(250);
    assert.equal(first!.count, 250);
    assert.deepEqual(first!.lines(), lines(0, 250));
    // Not committed: read again from the same point.
    spool.release();
    assert.deepEqual((await spool.read(250))!.lines(), lines(0, 250));
    const all = await drain(spool, 300);
    assert.deepEqual(all, lines(0, 1000));
    assert.equal(spool.pending, 0);
    assert.equal(
      fs.readdirSync(dir).filter((f) => f.endsWith('.lp')).length,
      1,
      'sent segments deleted',
    );
  });

  it('after a crash, gives back exactly the uncommitted points', async () => {
    const dir = tempDir();
    const spool = await openSpool(dir);
    await spool.append(lines(0, 300));
    const b = await spool.read(120);
    await spool.commit(b!);
    await spool.append(lines(300, 50));
    const reopened = await openSpool(crashCopy(dir));
    assert.equal(reopened.pending, 230);
    assert.deepEqual(await drain(reopened), lines(120, 230));
  });

  it('resumes from a cursor file in either form (rewritten in place, or whole)', async () => {
    const dir = tempDir();
    const spool = await openSpool(dir);
    await spool.append(lines(0, 100));
    await spool.commit((await spool.read(40))!);
    await spool.close();
    open.splice(open.indexOf(spool), 1);
    const record = fs.readFileSync(path.join(dir, 'cursor.json'), 'utf8');
    assert.equal(record.length, 64, 'a fixed-size record');
    assert.deepEqual(await drain(await openSpool(crashCopy(dir))), lines(40, 60));
    // A cursor as a whole small file, as an earlier version wrote it.
    const { seq, offset } = JSON.parse(record) as { seq: number; offset: number };
    const copy = crashCopy(dir);
    fs.writeFileSync(path.join(copy, 'cursor.json'), JSON.stringify({ seq, offset }));
    assert.deepEqual(await drain(await openSpool(copy)), lines(40, 60));
  });

  it('cuts a torn last line, which was never acknowledged', async () => {
    const dir = tempDir();
    const spool = await openSpool(dir);
    await spool.append(lines(0, 10));
    const copy = crashCopy(dir);
    const last = fs
      .readdirSync(copy)
      .filter((f) => f.endsWith('.lp'))
      .sort()
      .pop()!;
    fs.appendFileSync(path.join(copy, last), 'm,tag=x value=99');
    const reopened = await openSpool(copy);
    assert.equal(reopened.pending, 10);
    await reopened.append(lines(10, 1));
    assert.deepEqual(await drain(reopened), lines(0, 11));
  });

  for (const mode of ['one append at a time', 'grouped']) {
    it(`keeps every acknowledged point through a real kill -9 (${mode})`, async function () {
      this.timeout(30_000);
      const dir = tempDir();
      const child = spawn(
        process.execPath,
        ['-r', 'tsx/cjs', 'test/fixtures/history/spool-appender.ts', dir, mode],
        {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let acked = -1;
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const all = [...out.matchAll(/acked (\d+)/g)];
        if (all.length > 0) acked = Number(all[all.length - 1][1]);
      });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      while (acked < 20_000) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGKILL');
      await exited;
      const reopened = await openSpool(dir);
      const got = (await drain(reopened, 5000)).map((l) => Number(/value=(\d+)/.exec(l)![1]));
      assert.ok(got.length > acked, `${got.length} points, ${acked + 1} acknowledged`);
      got.forEach((v, i) => assert.equal(v, i, 'in order, each once'));
    });
  }

  it('drops the oldest segments beyond the size limit, and counts them', async () => {
    const dir = tempDir();
    const drops: number[] = [];
    const spool = await openSpool(dir, 16 * 1024, 4096);
    spool.onDrop = (n) => drops.push(n);
    for (let i = 0; i < 20; i++) await spool.append(lines(i * 50, 50)); // ~36 KiB
    assert.ok(spool.bytes <= 16 * 1024 + 4096, `${spool.bytes} bytes`);
    const dropped = drops.reduce((a, b) => a + b, 0);
    assert.equal(dropped, spool.dropped);
    assert.ok(dropped > 0);
    const left = await drain(spool);
    assert.equal(left.length + dropped, 1000);
    assert.deepEqual(left, lines(dropped, 1000 - dropped), 'the newest are kept, in order');
  });

  it('tells when the oldest unsent point was accepted', async () => {
    const spool = await openSpool(tempDir());
    assert.equal(spool.oldestAt, undefined);
    const t0 = clock.now();
    await spool.append(lines(0, 10));
    await clock.advance(5000);
    await spool.append(lines(10, 10));
    assert.equal(spool.oldestAt, t0);
    await spool.commit((await spool.read(10))!);
    assert.equal(spool.oldestAt, t0 + 5000);
    await drain(spool);
    assert.equal(spool.oldestAt, undefined);
  });

  it('is owned by one process at a time', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'lock'), String(process.ppid));
    await assert.rejects(openSpool(dir), SpoolLockedError);
    // The refused open leaves the live owner's lock alone.
    assert.equal(fs.readFileSync(path.join(dir, 'lock'), 'utf8'), String(process.ppid));
    // A lock left by a dead process is taken over.
    fs.writeFileSync(path.join(dir, 'lock'), '999999999');
    const spool = await openSpool(dir);
    await spool.append(lines(0, 1));
    assert.equal(fs.readFileSync(path.join(dir, 'lock'), 'utf8'), String(process.pid));
  });

  it('lets the folder be opened again after a close that failed', async () => {
    const dir = tempDir();
    const spool = await Spool.open({ dir, maxBytes: 1 << 20, clock });
    // A lock the close cannot remove: a directory in its place.
    const lockPath = path.join(dir, 'lock');
    fs.rmSync(lockPath);
    fs.mkdirSync(path.join(lockPath, 'inside'), { recursive: true });
    await assert.rejects(spool.close());
    fs.rmSync(lockPath, { recursive: true });
    const again = await Promise.race([
      openSpool(dir),
      new Promise<string>((resolve) => setTimeout(() => resolve('still waiting'), 5000)),
    ]);
    assert.ok(again instanceof Spool, 'the second open waited for the failed close forever');
  });

  it('reports a segment it cannot drop, and goes on appending', async () => {
    const dir = tempDir();
    const spool = await openSpool(dir, 16 * 1024, 4096);
    const errors: unknown[] = [];
    spool.onLimitError = (err) => errors.push(err);
    for (let i = 0; i < 4; i++) await spool.append(lines(i * 50, 50)); // past one segment
    // The oldest segment cannot be deleted: a directory in its place.
    const first = path.join(
      dir,
      fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.lp'))
        .sort()[0],
    );
    fs.rmSync(first);
    fs.mkdirSync(path.join(first, 'inside'), { recursive: true });
    for (let i = 4; i < 20; i++) await spool.append(lines(i * 50, 50)); // over the limit
    assert.ok(errors.length > 0, 'the failed deletion is reported');
    assert.ok(spool.dropped > 0, 'the limit is still kept');
    await spool.append(lines(1000, 1));
    assert.ok(spool.pending > 0);
  });

  it('refuses appends once closed', async () => {
    const spool = await openSpool(tempDir());
    await spool.close();
    await assert.rejects(spool.append(lines(0, 1)), /closed/);
    const told: Array<Error | undefined> = [];
    spool.appendFrom(lines(0, 1), { stored: (err) => told.push(err) });
    assert.equal(told.length, 1);
    assert.match(told[0]!.message, /closed/);
  });

  it('writes the appends of one moment with one write and one fsync (group commit)', async () => {
    const spool = await openSpool(tempDir());
    const syncs = await countDatasyncs();
    try {
      await Promise.all(Array.from({ length: 100 }, (_, i) => spool.append(lines(i * 10, 10))));
      assert.equal(syncs.count, 1, 'one fsync for 100 appends');
      // Appends made while a write is on its way share the next one.
      const first = spool.append(lines(1000, 10));
      // Until the first write is on its way: its fsync was called (after 50 ms it
      // could still wait for its turn, and the later appends would join it).
      while (syncs.count < 2) await new Promise((resolve) => setImmediate(resolve));
      const later = Array.from({ length: 50 }, (_, i) => spool.append(lines(1010 + i * 10, 10)));
      await Promise.all([first, ...later]);
      assert.equal(syncs.count, 3);
    } finally {
      syncs.restore();
    }
    assert.deepEqual(await drain(spool), lines(0, 1510));
  });

  it('lets appends trickling in within groupMs of a write share the next one', async () => {
    const dir = tempDir();
    // 500 ms: 20 appends 2 ms apart take 40 ms, or a few hundred on a busy machine.
    const spool = await Spool.open({ dir, maxBytes: 1 << 30, groupMs: 500, clock });
    open.push(spool);
    const syncs = await countDatasyncs();
    try {
      const appended: Array<Promise<void>> = [];
      // 20 appends, each in its own turn of the event loop, 2 ms apart.
      for (let i = 0; i < 20; i++) {
        appended.push(spool.append(lines(i * 10, 10)));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await Promise.all(appended);
      assert.ok(syncs.count <= 3, `${syncs.count} fsyncs for 20 appends within 500 ms`);
    } finally {
      syncs.restore();
    }
    assert.deepEqual(await drain(spool), lines(0, 200));
  });

  it('tells each source once its points are on disk, and knows it until they are sent', async () => {
    const spool = await openSpool(tempDir());
    const told: string[] = [];
    const source = (name: string) => ({
      name,
      stored: (err?: Error) => told.push(err ? 'error' : name),
    });
    const a = source('a');
    const b = source('b');
    spool.appendFrom(lines(0, 3), a);
    const untagged = spool.append(lines(3, 2));
    spool.appendFrom(lines(5, 3), b);
    assert.deepEqual(told, [], 'not before the fsync');
    await untagged;
    assert.deepEqual(told, ['a', 'b']);
    const batch = (await spool.read(6))!;
    assert.equal(batch.sourceOf(lines(1, 1)[0]), a);
    assert.equal(batch.sourceOf(lines(3, 1)[0]), undefined, 'appended without a source');
    assert.equal(batch.sourceOf(lines(5, 1)[0]), b);
    assert.equal(batch.sourceOf('m,tag=x value=0 1'), undefined, 'not in the batch');
    await spool.commit(batch);
    assert.equal(batch.sourceOf(lines(1, 1)[0]), undefined, 'forgotten once sent');
    const rest = (await spool.read(10))!;
    assert.equal(rest.sourceOf(lines(7, 1)[0]), b, 'kept while some of its points are unsent');
  });
});

/** Counts FileHandle.datasync calls (every fsync of the spool) until restore(). */
async function countDatasyncs(): Promise<{ count: number; restore(): void }> {
  const handle = await fs.promises.open(__filename, 'r');
  const proto = Object.getPrototypeOf(handle) as {
    datasync: (...args: unknown[]) => Promise<void>;
  };
  await handle.close();
  const original = proto.datasync;
  const counter = {
    count: 0,
    restore: () => (proto.datasync = original),
  };
  proto.datasync = function (this: unknown, ...args: unknown[]) {
    counter.count += 1;
    return original.apply(this, args);
  };
  return counter;
}
