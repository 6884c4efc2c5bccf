// The per-address budget: a limit per sliding minute, per key, bounded memory.
import assert from 'node:assert/strict';
import { RateLimiter } from '../../../lib/util/rate-limit';
import { FakeClock } from '../../support/fake-clock';

describe('rate limiter', () => {
  it('allows `limit` requests per window and key, then says how long to wait', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(3, 60_000, clock);
    assert.deepEqual([limiter.take('a'), limiter.take('a'), limiter.take('a')], [0, 0, 0]);
    assert.equal(limiter.take('a'), 60_000);
    assert.equal(limiter.take('b'), 0, 'another address has its own budget');
    await clock.advance(20_000);
    assert.equal(limiter.take('a'), 40_000);
    await clock.advance(40_000);
    assert.equal(limiter.take('a'), 0);
  });

  it('forgets the least recently seen keys beyond its size', () => {
    const limiter = new RateLimiter(1, 60_000, new FakeClock(), 2);
    limiter.take('a');
    limiter.take('b');
    limiter.take('c');
    assert.equal(limiter.take('a'), 0, 'a was dropped');
    assert.ok(limiter.take('c') > 0);
  });
});
