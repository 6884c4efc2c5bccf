// The gateway's queue on disk: batches come back in order after a reopen
// (as after a crash), half-written files are dropped, unreadable ones set
// aside, refused batches kept for a look, and a full queue refuses more.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { contentDigest } from '../../../lib/surveys/batch';
import { QueuedBatch, QueueFullError, SurveyQueue } from '../../../lib/surveys/queue';
import { Logger } from '../../../lib/util/log';

function batch(n: number): Omit<QueuedBatch, 'seq'> {
  const lines = [`192.168.1.${n} 08:00 - 20 - 30%`, `192.168.1.${n} 12:00 - 25 - 33%`];
  return {
    id: `batch-${n}`,
    receivedAt: 1_763_700_000_000 + n,
    lines,
    digest: contentDigest(`192.168.1.${n}`, lines),
    source: `192.168.1.${n}:5000`,
  };
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, error() {}, warn: (m) => warnings.push(m), info() {}, debug() {} };
}

describe('survey queue', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-survey-queue-'));
  });

  const open = (maxBatches = 100, logger: Logger = recordingLogger()) =>
    SurveyQueue.open({ dir, maxBatches, logger });

  it('keeps batches in order across a reopen, and forgets removed ones', async () => {
    const queue = await open();
    for (const n of [1, 2, 3]) await queue.add(batch(n));
    assert.equal(queue.size, 3);
    assert.equal(queue.peek()?.id, 'batch-1');
    await queue.remove(queue.peek()!.seq);
    // No close: as after kill -9, what add() resolved is on disk.
    const again = await open();
    assert.deepEqual(
      again.list().map((b) => [b.id, b.seq, b.lines.length]),
      [
        ['batch-2', 2, 2],
        ['batch-3', 3, 2],
      ],
    );
    assert.deepEqual({ ...again.peek()!, seq: 0 }, { ...batch(2), seq: 0 });
    const next = await again.add(batch(4));
    assert.equal(next.seq, 4, 'sequence numbers are not reused');
  });

  it('keeps order when concurrent writes finish out of order', async () => {
    const queue = await open();
    await Promise.all([1, 2, 3, 4, 5].map((n) => queue.add(batch(n))));
    assert.deepEqual(
      queue.list().map((b) => b.id),
      ['batch-1', 'batch-2', 'batch-3', 'batch-4', 'batch-5'],
    );
  });

  it('drops a write cut by a crash and sets an unreadable file aside', async () => {
    const queue = await open();
    await queue.add(batch(1));
    fs.writeFileSync(path.join(dir, '0000000002.json.tmp'), '{"id":"half');
    fs.writeFileSync(path.join(dir, '0000000003.json'), 'not json');
    fs.writeFileSync(
      path.join(dir, '0000000004.json'),
      JSON.stringify({ ...batch(4), lines: ['two\nlines'] }),
    );
    const logger = recordingLogger();
    const again = await open(100, logger);
    assert.deepEqual(
      again.list().map((b) => b.id),
      ['batch-1'],
    );
    assert.ok(!fs.existsSync(path.join(dir, '0000000002.json.tmp')));
    assert.deepEqual(fs.readdirSync(path.join(dir, 'refused')).sort(), [
      '0000000003.json',
      '0000000004.json',
    ]);
    assert.equal(logger.warnings.length, 2);
    assert.match(logger.warnings[0], /0000000003\.json cannot be read; set aside in refused\//);
    assert.equal((await again.add(batch(5))).seq, 5);
  });

  it('sets a refused batch aside with the reason', async () => {
    const queue = await open();
    const first = await queue.add(batch(1));
    await queue.add(batch(2));
    await queue.refuse(first.seq, 'the body is not UTF-8 text');
    assert.equal(queue.peek()?.id, 'batch-2');
    const kept = JSON.parse(fs.readFileSync(path.join(dir, 'refused', '0000000001.json'), 'utf8'));
    assert.equal(kept.id, 'batch-1');
    assert.equal(kept.reason, 'the body is not UTF-8 text');
    assert.equal((await open()).list().length, 1);
  });

  it('finds a pending batch by its content', async () => {
    const queue = await open();
    await queue.add(batch(1));
    assert.equal(queue.findDigest(batch(1).digest)?.id, 'batch-1');
    assert.equal(queue.findDigest(batch(2).digest), undefined);
  });

  it('refuses a batch beyond its limit and takes one again once there is room', async () => {
    const queue = await open(2);
    await queue.add(batch(1));
    await queue.add(batch(2));
    await assert.rejects(
      queue.add(batch(3)),
      (err: unknown) =>
        err instanceof QueueFullError && /keeps 2 batches at most/.test(err.message),
    );
    assert.equal(
      fs.readdirSync(dir).filter((f) => f.endsWith('.json')).length,
      2,
      'nothing written',
    );
    await queue.remove(queue.peek()!.seq);
    await queue.add(batch(3));
    assert.equal(queue.size, 2);
  });

  it('refuses to add once closed', async () => {
    const queue = await open();
    await queue.close();
    await assert.rejects(queue.add(batch(1)), /closed/);
  });
});
