// The alarm write queue: batches in order, retries a failed batch with
// backoff without reordering, and gives up only at close.
import assert from 'node:assert/strict';
import { WriteQueue } from '../../../lib/alarms/write-queue';
import { silentLogger } from '../../../lib/util/log';
import { FakeClock } from '../../support/fake-clock';

describe('alarm write queue', () => {
  it('writes what is pushed together in one batch, in order', async () => {
    const batches: number[][] = [];
    const queue = new WriteQueue<number>(
      async (b) => void batches.push(b),
      new FakeClock(),
      silentLogger,
      'test',
    );
    for (let i = 1; i <= 5; i++) queue.push(i);
    await queue.flush();
    queue.push(6);
    await queue.flush();
    assert.deepEqual(batches, [[1, 2, 3, 4, 5], [6]]);
  });

  it('retries a failing batch with backoff and keeps later items behind it', async () => {
    const clock = new FakeClock();
    const written: number[] = [];
    let failures = 2;
    const errors: unknown[] = [];
    const queue = new WriteQueue<number>(
      async (b) => {
        if (failures-- > 0) throw new Error('database away');
        written.push(...b);
      },
      clock,
      silentLogger,
      'test',
      (e) => errors.push(e),
    );
    queue.push(1);
    queue.push(2);
    await clock.advance(0);
    assert.deepEqual(written, []);
    queue.push(3);
    await clock.advance(200);
    assert.deepEqual(written, [], 'second attempt fails too');
    await clock.advance(400);
    await queue.flush();
    assert.deepEqual(written, [1, 2, 3]);
    assert.equal(errors.length, 2);
  });

  it('tries once more at close, then drops what cannot be written', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const queue = new WriteQueue<number>(
      async () => {
        calls++;
        throw new Error('gone');
      },
      clock,
      silentLogger,
      'test',
    );
    queue.push(1);
    await clock.advance(0);
    await queue.close();
    assert.equal(calls, 2);
    assert.equal(queue.length, 0);
  });
});
