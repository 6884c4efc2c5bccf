// Store and forward with a fake clock: batches go out in order and are
// forgotten only once confirmed; an unreachable cloud is retried with a
// growing backoff; a lost confirmation means the batch is sent again; a
// refused batch is set aside; stop() leaves what is unconfirmed queued.
import assert from 'node:assert/strict';
import {
  CloudConnection,
  Delivery,
  Forwarder,
  ForwarderEvent,
  ForwardQueue,
} from '../../../lib/surveys/forwarder';
import { QueuedBatch } from '../../../lib/surveys/queue';
import { FakeClock } from '../../support/fake-clock';

class MemoryQueue implements ForwardQueue {
  batches: QueuedBatch[] = [];
  refused: Array<{ id: string; reason: string }> = [];
  get size() {
    return this.batches.length;
  }
  add(n: number): QueuedBatch {
    const batch = {
      id: `b${n}`,
      seq: n,
      receivedAt: n,
      lines: [`10.0.0.${n} 08:00 - 20 - 30%`],
      digest: `d${n}`,
      source: '',
    };
    this.batches.push(batch);
    return batch;
  }
  peek() {
    return this.batches[0];
  }
  async remove(seq: number) {
    this.batches = this.batches.filter((b) => b.seq !== seq);
  }
  async refuse(seq: number, reason: string) {
    const batch = this.batches.find((b) => b.seq === seq)!;
    this.refused.push({ id: batch.id, reason });
    await this.remove(seq);
  }
}

type Answer = Delivery | 'hang';

/** A cloud that can be down, answer, refuse, or never answer. */
class FakeCloud {
  up = true;
  connectHangs = false;
  connects: number[] = [];
  /** Ids in the order they were sent, resends included. */
  sent: string[] = [];
  open = 0;
  answer: (id: string) => Answer = () => ({ kind: 'received' });
  late: Array<(c: CloudConnection) => void> = [];

  constructor(private readonly clock: FakeClock) {}

  connect = (): Promise<CloudConnection> => {
    this.connects.push(this.clock.now());
    if (this.connectHangs) return new Promise((resolve) => this.late.push(resolve));
    if (!this.up) return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:8001'));
    return Promise.resolve(this.connection());
  };

  connection(): CloudConnection {
    this.open += 1;
    let closed = false;
    const hanging: Array<(err: Error) => void> = [];
    return {
      deliver: (batch) => {
        if (closed) return Promise.reject(new Error('closed'));
        this.sent.push(batch.id);
        const answer = this.answer(batch.id);
        if (answer === 'hang') return new Promise((_resolve, reject) => hanging.push(reject));
        return Promise.resolve(answer);
      },
      close: () => {
        if (closed) return;
        closed = true;
        this.open -= 1;
        hanging.forEach((reject) => reject(new Error('closed')));
      },
    };
  }
}

describe('survey forwarder', () => {
  let clock: FakeClock;
  let queue: MemoryQueue;
  let cloud: FakeCloud;
  let events: ForwarderEvent[];
  let forwarder: Forwarder;

  beforeEach(() => {
    clock = new FakeClock();
    queue = new MemoryQueue();
    cloud = new FakeCloud(clock);
    events = [];
    forwarder = new Forwarder({
      queue,
      connect: cloud.connect,
      clock,
      confirmTimeoutMs: 10_000,
      backoff: { initialMs: 500, maxMs: 4000 },
      onEvent: (e) => events.push(e),
    });
  });
  afterEach(() => forwarder.stop());

  const names = () => events.map((e) => ('batch' in e ? `${e.event} ${e.batch.id}` : e.event));

  it('sends in order, forgets each batch once confirmed, and hangs up when done', async () => {
    [1, 2, 3].forEach((n) => queue.add(n));
    forwarder.start();
    await clock.advance(0);
    assert.deepEqual(cloud.sent, ['b1', 'b2', 'b3']);
    assert.equal(queue.size, 0);
    assert.deepEqual(names(), ['forwarded b1', 'forwarded b2', 'forwarded b3']);
    assert.equal(cloud.open, 0, 'the connection is closed once the queue is empty');
    assert.equal(cloud.connects.length, 1, 'one connection for the three');

    queue.add(4);
    forwarder.wake();
    await clock.advance(0);
    assert.deepEqual(cloud.sent, ['b1', 'b2', 'b3', 'b4']);
    assert.equal(cloud.connects.length, 2);
    assert.deepEqual(forwarder.state(), {
      pending: 0,
      connected: false,
      failures: 0,
      lastError: undefined,
    });
  });

  it('keeps batches while the cloud is down, retrying with a growing pause, then sends them', async () => {
    cloud.up = false;
    queue.add(1);
    queue.add(2);
    const start = clock.now();
    forwarder.start();
    await clock.advance(12_000);
    assert.deepEqual(
      cloud.connects.map((t) => t - start),
      [0, 500, 1500, 3500, 7500, 11_500],
      '0.5 s doubling, at most 4 s',
    );
    assert.deepEqual(names(), ['unreachable'], 'said once, not at every retry');
    assert.deepEqual(events[0], {
      event: 'unreachable',
      error: 'connect ECONNREFUSED 127.0.0.1:8001',
    });
    assert.equal(queue.size, 2);
    assert.equal(forwarder.state().failures, 6);
    assert.equal(forwarder.state().lastError, 'connect ECONNREFUSED 127.0.0.1:8001');

    // New batches do not cut the pause short.
    queue.add(3);
    forwarder.wake();
    await clock.advance(100);
    assert.equal(cloud.connects.length, 6);

    cloud.up = true;
    await clock.advance(4000);
    assert.deepEqual(cloud.sent, ['b1', 'b2', 'b3']);
    assert.deepEqual(names(), [
      'unreachable',
      'forwarded b1',
      'reachable',
      'forwarded b2',
      'forwarded b3',
    ]);
    assert.equal(forwarder.state().failures, 0);

    // After a success the pause starts from 0.5 s again.
    cloud.up = false;
    queue.add(4);
    forwarder.wake();
    const down = clock.now();
    await clock.advance(2000);
    assert.deepEqual(
      cloud.connects.slice(7).map((t) => t - down),
      [0, 500, 1500],
    );
  });

  it('sends a batch again when its confirmation does not come, so it is confirmed once', async () => {
    let calls = 0;
    cloud.answer = () => (++calls === 1 ? 'hang' : { kind: 'received' });
    queue.add(1);
    forwarder.start();
    await clock.advance(9_999);
    assert.deepEqual(cloud.sent, ['b1']);
    assert.equal(forwarder.state().connected, true);
    await clock.advance(1);
    assert.equal(cloud.open, 0, 'the silent connection is dropped');
    assert.match(
      forwarder.state().lastError!,
      /no answer from the cloud in 10 s \(waiting for "Surveys received"\)/,
    );
    await clock.advance(500);
    assert.deepEqual(cloud.sent, ['b1', 'b1']);
    assert.equal(queue.size, 0);
    assert.deepEqual(names(), ['unreachable', 'forwarded b1', 'reachable']);
  });

  it('gives up on a connection that does not open, and closes it if it opens late', async () => {
    cloud.connectHangs = true;
    queue.add(1);
    forwarder.start();
    await clock.advance(10_000);
    assert.match(forwarder.state().lastError!, /connecting to the cloud/);
    cloud.late[0](cloud.connection());
    await clock.advance(0);
    assert.equal(cloud.open, 0, 'the late connection is closed');
    cloud.connectHangs = false;
    await clock.advance(500);
    assert.deepEqual(cloud.sent, ['b1']);
    assert.equal(queue.size, 0);
  });

  it('sets a refused batch aside and goes on with the next', async () => {
    cloud.answer = (id) =>
      id === 'b1'
        ? { kind: 'refused', reason: 'the body is not UTF-8 text' }
        : { kind: 'received' };
    queue.add(1);
    queue.add(2);
    forwarder.start();
    await clock.advance(0);
    assert.deepEqual(queue.refused, [{ id: 'b1', reason: 'the body is not UTF-8 text' }]);
    assert.deepEqual(names(), ['refused b1', 'forwarded b2']);
    assert.equal(queue.size, 0);
  });

  it('stops at once, mid-backoff or mid-delivery, leaving what is unconfirmed queued', async () => {
    cloud.up = false;
    queue.add(1);
    forwarder.start();
    await clock.advance(100);
    await forwarder.stop();
    assert.equal(queue.size, 1);
    assert.equal(clock.pending, 0, 'no timer left behind');

    const other = new Forwarder({ queue, connect: cloud.connect, clock });
    cloud.up = true;
    cloud.answer = () => 'hang';
    other.start();
    await clock.advance(0);
    assert.equal(cloud.open, 1);
    await other.stop();
    assert.equal(cloud.open, 0);
    assert.equal(queue.size, 1, 'not confirmed, so kept');
    assert.equal(clock.pending, 0);
  });
});
