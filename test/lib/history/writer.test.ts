// The writer with an injected clock and a scripted backend: batching by count
// and by time, one write at a time, retry with backoff in order, bad points
// reported while the rest is written, points from a previous run sent first.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  HistoryBackend,
  HistoryUnavailableError,
  LineBatch,
  RejectedLine,
  WriteOutcome,
} from '../../../lib/history/backend';
import { Spool } from '../../../lib/history/spool';
import { HistoryWriter } from '../../../lib/history/writer';
import { silentLogger } from '../../../lib/util/log';
import { FakeClock } from '../../support/fake-clock';

class ScriptedBackend implements HistoryBackend {
  readonly kind = 'embedded' as const;
  readonly description = 'scripted';
  batches: string[][] = [];
  down = false;
  attempts = 0;
  inFlight = 0;
  maxInFlight = 0;
  bad = new Set<string>();

  async write(batch: LineBatch): Promise<WriteOutcome> {
    this.attempts += 1;
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setImmediate(r));
    this.inFlight -= 1;
    if (this.down) throw new HistoryUnavailableError('connect ECONNREFUSED');
    const lines = batch.lines();
    const rejected = lines.filter((l) => this.bad.has(l)).map((line) => ({ line, reason: 'bad' }));
    this.batches.push(lines.filter((l) => !this.bad.has(l)));
    return { rejected };
  }
  async query() {
    return [];
  }
  async ping() {}
  async close() {}
  get written(): string[] {
    return this.batches.flat();
  }
}

function lines(from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `m value=${from + i} ${from + i}000000`);
}

describe('history writer', () => {
  let clock: FakeClock;
  let backend: ScriptedBackend;
  let dir: string;
  let writer: HistoryWriter;
  let rejected: RejectedLine[];

  async function start(options: { batchSize?: number; flushIntervalMs?: number } = {}) {
    const spool = await Spool.open({ dir, maxBytes: 1 << 30, clock });
    writer = new HistoryWriter({
      backend,
      spool,
      clock,
      logger: silentLogger,
      name: 'test',
      retry: { initialMs: 1000, maxMs: 8000 },
      onRejected: (r) => rejected.push(...r),
      ...options,
    });
    return writer;
  }

  /** Moves time on, then lets the writer finish what that started (file I/O included). */
  async function step(ms: number) {
    await clock.advance(ms);
    await writer.idle();
    await clock.advance(0);
    await writer.idle();
  }

  beforeEach(() => {
    clock = new FakeClock();
    backend = new ScriptedBackend();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-writer-'));
    rejected = [];
  });
  afterEach(async () => {
    await writer?.close(0);
  });

  it('writes a full batch at once, and the rest after the flush interval', async () => {
    await start({ batchSize: 100, flushIntervalMs: 1000 });
    await writer.accept(lines(0, 250));
    await step(0);
    assert.deepEqual(
      backend.batches.map((b) => b.length),
      [100, 100],
      'count batching',
    );
    await step(999);
    assert.equal(backend.batches.length, 2, 'the rest waits');
    await step(1);
    assert.deepEqual(
      backend.batches.map((b) => b.length),
      [100, 100, 50],
    );
    assert.deepEqual(backend.written, lines(0, 250));
    assert.equal(backend.maxInFlight, 1, 'one write at a time');
    assert.equal(writer.state().pending, 0);
    assert.equal(writer.state().written, 250);
  });

  it('retries with growing backoff while the backend is down, then writes everything in order', async () => {
    await start({ batchSize: 10, flushIntervalMs: 100 });
    backend.down = true;
    await writer.accept(lines(0, 25));
    await step(0);
    assert.equal(backend.attempts, 1);
    await step(999);
    assert.equal(backend.attempts, 1, 'waits 1 s');
    await step(1);
    assert.equal(backend.attempts, 2);
    await step(1999);
    assert.equal(backend.attempts, 2, 'then 2 s');
    await step(1);
    assert.equal(backend.attempts, 3);
    assert.equal(writer.state().failures, 3);
    assert.match(writer.state().lastError!, /ECONNREFUSED/);
    await writer.accept(lines(25, 5));
    backend.down = false;
    await step(4000);
    assert.deepEqual(backend.written, lines(0, 30));
    assert.equal(writer.state().failures, 0);
  });

  it('reports the points the backend refuses and writes the others', async () => {
    await start({ batchSize: 10 });
    backend.bad.add(lines(3, 1)[0]);
    await writer.accept(lines(0, 10));
    await step(0);
    assert.deepEqual(rejected, [{ line: lines(3, 1)[0], reason: 'bad' }]);
    assert.equal(backend.written.length, 9);
    assert.equal(writer.state().rejected, 1);
  });

  it('sends points left by a previous run first, without waiting for new ones', async () => {
    await start({ batchSize: 1000, flushIntervalMs: 60_000 });
    backend.down = true;
    await writer.accept(lines(0, 40));
    await writer.close(0);
    backend.down = false;
    await start({ batchSize: 1000, flushIntervalMs: 60_000 });
    await step(0);
    assert.deepEqual(backend.written, lines(0, 40));
  });

  it('flush() resolves once everything accepted is written', async () => {
    await start({ batchSize: 1000, flushIntervalMs: 60_000 });
    await writer.accept(lines(0, 5));
    await writer.flush();
    assert.deepEqual(backend.written, lines(0, 5));
  });
});
