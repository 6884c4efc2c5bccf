// Instance leases on SQLite and on a real MariaDB, with a fake clock: a live
// holder keeps its id (a second start is refused), a dead one (silent for a
// whole ttl) is taken over, others notice a lost instance once, a clean stop
// frees the id at once, and a process whose lease was taken is told so.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InstanceIdTakenError, InstanceLease, MembershipEvent } from '../../../lib/cluster/lease';
import { ownerOf } from '../../../lib/cluster/ownership';
import { openStore, Store, StoreSpec } from '../../../lib/store/store';
import { silentLogger } from '../../../lib/util/log';
import { FakeClock } from '../../support/fake-clock';
import { waitFor } from '../../support/net';
import { mariadb } from '../../support/services';

const TTL = 5000;

function leaseContract(name: string, makeSpec: () => Promise<StoreSpec>) {
  describe(`instance leases on ${name}`, function () {
    this.timeout(60_000);
    let store: Store;
    let clock: FakeClock;
    const lease = (id: string) =>
      new InstanceLease(store.db, {
        id,
        ttlMs: TTL,
        clock,
        logger: silentLogger,
        host: 'h',
        pid: 1,
      });

    beforeEach(async () => {
      store = await openStore(await makeSpec());
      clock = new FakeClock();
    });
    afterEach(async () => store.close());

    /** Lets time pass in beats, `beating` renewing their leases at each one, until `p` settles. */
    async function run<T>(p: Promise<T>, beating: InstanceLease[], maxMs = 3 * TTL): Promise<T> {
      let settled = false;
      p.then(
        () => (settled = true),
        () => (settled = true),
      );
      for (let t = 0; t < maxMs && !settled; t += 1000) {
        // Time moves only while `p` waits on the clock: a store slower than a
        // fixed pause would let the beats run out before `p` even started waiting.
        await waitFor(async () => assert.ok(settled || clock.pending > 0), 10_000, 2);
        if (settled) break;
        for (const l of beating) await l.beat();
        await clock.advance(1000);
      }
      return p;
    }

    it('refuses a second start under an id a live instance holds', async () => {
      const first = lease('alpha');
      assert.equal(await first.acquire(), undefined);
      const second = lease('alpha');
      const err = await run(second.acquire(), [first]).then(
        () => assert.fail('took a live lease'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof InstanceIdTakenError);
      assert.match(
        String((err as Error).message),
        /SENSFLOW_INSTANCE_ID: instance "alpha" is already running/,
      );
    });

    it('takes over the lease of a holder that stopped beating', async () => {
      const dead = lease('alpha');
      await dead.acquire();
      const next = lease('alpha');
      assert.equal(await run(next.acquire(), []), dead.token);
      const row = await store.db
        .selectFrom('sensflow_instances')
        .selectAll()
        .where('id', '=', 'alpha')
        .executeTakeFirstOrThrow();
      assert.equal(row.token, next.token);
    });

    it('a clean stop frees the id at once', async () => {
      const first = lease('alpha');
      await first.acquire();
      await first.stop();
      const started = clock.now();
      await lease('alpha').acquire();
      assert.equal(clock.now(), started, 'no wait');
    });

    it('reports joined and lost instances once, and cleans the dead one’s row', async () => {
      const a = lease('a');
      const b = lease('b');
      const c = lease('c');
      for (const l of [a, b, c]) await l.acquire();
      const seenByA: MembershipEvent[] = [];
      const seenByB: MembershipEvent[] = [];
      a.onChange((e) => seenByA.push(e));
      b.onChange((e) => seenByB.push(e));
      await a.poll();
      await b.poll();
      assert.deepEqual(
        a.members().map((m) => m.id),
        ['a', 'b', 'c'],
      );
      // c stops beating; a and b go on.
      for (let t = 0; t <= TTL + 1000; t += 1000) {
        await clock.advance(1000);
        await a.beat();
        await b.beat();
      }
      const lost = (events: MembershipEvent[]) => events.filter((e) => e.kind === 'lost');
      assert.deepEqual(lost(seenByA), [{ kind: 'lost', id: 'c', token: c.token }]);
      assert.deepEqual(lost(seenByB), [{ kind: 'lost', id: 'c', token: c.token }]);
      assert.deepEqual(
        b.members().map((m) => m.id),
        ['a', 'b'],
      );
      const rows = await store.db.selectFrom('sensflow_instances').select('id').execute();
      assert.deepEqual(rows.map((r) => r.id).sort(), ['a', 'b']);
      // Once lost, never reported again.
      await clock.advance(1000);
      await a.beat();
      assert.equal(lost(seenByA).length, 1);
    });

    it('does not declare anyone dead across its own blind spot', async () => {
      const a = lease('a');
      const b = lease('b');
      await a.acquire();
      await b.acquire();
      const events: MembershipEvent[] = [];
      a.onChange((e) => events.push(e));
      await a.poll();
      // Neither beat for 20 s (the store was away for everyone), then both do.
      await clock.advance(20_000);
      await b.beat();
      await a.beat();
      assert.deepEqual(
        events.filter((e) => e.kind === 'lost'),
        [],
      );
    });

    it('tells a process whose lease row was taken that it is evicted', async () => {
      const a = lease('a');
      await a.acquire();
      let evicted = '';
      a.start((reason) => (evicted = reason));
      await store.db.updateTable('sensflow_instances').set({ token: 'someone-else' }).execute();
      await clock.advance(1000);
      await waitFor(async () => assert.match(evicted, /gone or taken/), 5000);
      await a.stop();
    });
  });
}

leaseContract('SQLite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-lease-'));
  return { kind: 'sqlite', file: path.join(dir, 'sensflow.db') };
});

leaseContract('MariaDB', async () => {
  const server = await mariadb();
  return { kind: 'mysql', url: await server.createDatabase('lease') };
});

describe('ownership (rendezvous hashing)', () => {
  const keys = Array.from({ length: 3000 }, (_, i) => `device-${i}`);

  it('gives every key one owner, the same for every caller, spread evenly', () => {
    const members = ['sensflow-1', 'sensflow-2', 'sensflow-3'];
    const counts = new Map<string, number>();
    for (const key of keys) {
      const owner = ownerOf(key, members)!;
      assert.equal(ownerOf(key, [...members].reverse()), owner, 'order does not matter');
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    for (const m of members) assert.ok(counts.get(m)! > 800, `${m}: ${counts.get(m)}`);
  });

  it('moves only the lost member’s keys when one is lost', () => {
    const before = keys.map((k) => ownerOf(k, ['a', 'b', 'c']));
    const after = keys.map((k) => ownerOf(k, ['a', 'b']));
    keys.forEach((_, i) => {
      if (before[i] !== 'c') assert.equal(after[i], before[i]);
      else assert.notEqual(after[i], 'c');
    });
    assert.equal(ownerOf('x', []), undefined);
  });
});
