// Reliable ordered streams between instances, over a fake wire that can lose,
// repeat and hold back envelopes: everything arrives in order, once; losses
// are repaired by resends; a new run of a peer starts a new stream; what a
// lost peer never acknowledged comes back to the sender.
import assert from 'node:assert/strict';
import { Endpoint, Envelope, Streams } from '../../../lib/cluster/link';
import { FakeClock, settle } from '../../support/fake-clock';

interface Node {
  self: Endpoint;
  streams: Streams;
  got: Array<[string, string, unknown]>;
}

/** Instances joined by a wire the test controls. */
function net(clock: FakeClock) {
  const nodes = new Map<string, Node>();
  const wire: Array<{ to: string; json: string }> = [];
  let up = true;
  let drop: (env: Envelope) => boolean = () => false;
  const add = (id: string, token = `${id}-1`) => {
    const node: Node = {
      self: { id, token },
      got: [],
      streams: undefined as unknown as Streams,
    };
    node.streams = new Streams({
      self: node.self,
      clock,
      retryMs: 1000,
      maxBatchBytes: 200,
      publish: (peer, json) => {
        if (!up) return false;
        wire.push({ to: peer, json });
        return true;
      },
      deliver: (from, channel, body) => node.got.push([from, channel, body]),
    });
    nodes.set(id, node);
    return node;
  };
  /** Carries what is on the wire (in order, unless `reorder`), some of it dropped. */
  const carry = async (reorder = false) => {
    for (let round = 0; round < 50 && wire.length > 0; round++) {
      const batch = wire.splice(0);
      if (reorder) batch.reverse();
      for (const { to, json } of batch) {
        const env = JSON.parse(json) as Envelope;
        if (drop(env)) continue;
        nodes.get(to)?.streams.receive(env);
      }
      await settle();
    }
  };
  return {
    add,
    carry,
    wire,
    setUp: (v: boolean) => (up = v),
    dropWhen: (f: (env: Envelope) => boolean) => (drop = f),
  };
}

describe('cluster links', () => {
  it('delivers in order, once, in batches', async () => {
    const clock = new FakeClock();
    const n = net(clock);
    const a = n.add('a');
    const b = n.add('b');
    for (let i = 0; i < 100; i++) assert.ok(a.streams.send('b', 'b-1', 'eot', { i }));
    await settle();
    assert.ok(n.wire.length > 1 && n.wire.length < 100, `${n.wire.length} batches`);
    await n.carry();
    assert.deepEqual(
      b.got.map(([, , body]) => (body as { i: number }).i),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.equal(a.streams.pending('b'), 0, 'all acknowledged');
  });

  it('repairs lost batches and ignores repeats, keeping the order', async () => {
    const clock = new FakeClock();
    const n = net(clock);
    const a = n.add('a');
    const b = n.add('b');
    let losing = true;
    // Lose the second data batch (every copy) until the resend, and repeat everything on the wire.
    n.dropWhen((env) => env.s === 2 && losing);
    for (let i = 0; i < 60; i++) a.streams.send('b', 'b-1', 'eot', { i });
    await settle();
    n.wire.push(...n.wire.map((w) => ({ ...w })));
    await n.carry(true);
    assert.ok(b.got.length < 60, 'held back behind the lost batch');
    losing = false;
    await clock.advance(1000); // the resend
    await n.carry();
    assert.deepEqual(
      b.got.map(([, , body]) => (body as { i: number }).i),
      Array.from({ length: 60 }, (_, i) => i),
    );
  });

  it('waits while the wire is down and sends everything when it comes back', async () => {
    const clock = new FakeClock();
    const n = net(clock);
    const a = n.add('a');
    const b = n.add('b');
    n.setUp(false);
    for (let i = 0; i < 10; i++) a.streams.send('b', 'b-1', 'eot', { i });
    await settle();
    await clock.advance(5000);
    assert.equal(b.got.length, 0);
    n.setUp(true);
    a.streams.resendAll(); // the broker is back
    await n.carry();
    assert.equal(b.got.length, 10);
  });

  it('hands back what a lost peer never acknowledged, and starts over with its new run', async () => {
    const clock = new FakeClock();
    const n = net(clock);
    const a = n.add('a');
    n.add('b');
    for (let i = 0; i < 5; i++) a.streams.send('b', 'b-1', 'eot', { i });
    await settle();
    n.wire.length = 0; // b died before reading them
    assert.equal(a.streams.send('b', 'b-2', 'eot', { i: 99 }), false, 'not onto an old stream');
    const back = a.streams.abort('b', 'b-1');
    assert.deepEqual(
      back.map(([, body]) => (body as { i: number }).i),
      [0, 1, 2, 3, 4],
    );
    const b2 = n.add('b', 'b-2');
    assert.ok(a.streams.send('b', 'b-2', 'eot', { i: 5 }));
    await settle();
    await n.carry();
    assert.deepEqual(b2.got, [['a', 'eot', { i: 5 }]]);
  });

  it('ignores what was meant for an earlier run of itself, and restarts with a sender’s new run', async () => {
    const clock = new FakeClock();
    const n = net(clock);
    const a1 = n.add('a', 'a-1');
    const b = n.add('b');
    a1.streams.send('b', 'b-1', 'x', 1);
    await settle();
    await n.carry();
    // a restarts: its new run numbers batches from 1 again.
    const a2 = n.add('a', 'a-2');
    a2.streams.send('b', 'b-1', 'x', 2);
    await settle();
    await n.carry();
    assert.deepEqual(
      b.got.map(([, , v]) => v),
      [1, 2],
    );
    b.streams.receive({ f: 'a', ft: 'a-2', t: 'b', tt: 'b-0', s: 9, m: [['x', 3]] });
    assert.equal(b.got.length, 2);
  });

  it('refuses to queue more than its limit for one peer', () => {
    const clock = new FakeClock();
    const s = new Streams({
      self: { id: 'a', token: 't' },
      clock,
      maxQueued: 3,
      defer: () => undefined,
      publish: () => true,
      deliver: () => undefined,
    });
    for (let i = 0; i < 3; i++) assert.ok(s.send('b', 'bt', 'x', i));
    assert.equal(s.send('b', 'bt', 'x', 3), false);
  });
});
