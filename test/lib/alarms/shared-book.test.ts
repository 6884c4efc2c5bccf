// Two instances' alarm books on one store (SQLite and real MariaDB), as when
// several Sensflow servers share a database: an alarm of one rule and subject
// is raised once however they race, only the stored transition is announced,
// each book sees the other's changes, and of two conflicting changes to one
// alarm only the first reaches the store.
import assert from 'node:assert/strict';
import { AlarmBook, AlarmChange } from '../../../lib/alarms/book';
import { runControl } from '../../../lib/alarms/control';
import { openStore, Store, StoreSpec } from '../../../lib/store/store';
import { FakeClock } from '../../support/fake-clock';
import { waitFor } from '../../support/net';
import { mariadbSpec, sqliteSpec } from './harness';

const RAISE = {
  ruleId: 'test/hot',
  subject: 'mkr-01',
  name: 'Too hot',
  severity: 'major' as const,
  deviceId: 'mkr-01',
  location: 'u4/300',
  kind: 'temperature',
  customerId: 'acme',
  value: 31,
};

function sharedContract(name: string, makeSpec: () => Promise<StoreSpec>) {
  describe(`alarm books of two instances on ${name}`, function () {
    this.timeout(60_000);
    let stores: Store[];
    let books: AlarmBook[];
    let heard: AlarmChange[][];
    const clock = new FakeClock();

    beforeEach(async () => {
      const spec = await makeSpec();
      stores = [await openStore(spec), await openStore(spec)];
      books = [];
      heard = [];
      for (const store of stores) {
        const book = await AlarmBook.open(store.db, { clock, shared: true, syncMs: 50 });
        const changes: AlarmChange[] = [];
        book.onChange((c) => changes.push(c));
        books.push(book);
        heard.push(changes);
      }
    });
    afterEach(async () => {
      for (const book of books) await book.close();
      for (const store of stores) await store.close();
    });

    const openRows = async () =>
      stores[0].db.selectFrom('rule_alarms').selectAll().where('open', '=', 1).execute();

    it('raises an alarm once when both instances raise it at the same moment', async () => {
      const [a, b] = books;
      const ra = a.raise(RAISE)!;
      const rb = b.raise(RAISE)!;
      assert.ok(ra && rb, 'each decided in memory');
      const stored = await Promise.all([a.confirmed(ra), b.confirmed(rb)]);
      assert.deepEqual(stored.filter(Boolean).length, 1, 'the store took one');
      assert.equal((await openRows()).length, 1);
      assert.equal(heard[0].length + heard[1].length, 1, 'announced once');
      const winner = stored[0] ? ra.alarm.id : rb.alarm.id;
      // The loser now holds the winner's alarm, so it does not raise again.
      const loser = stored[0] ? b : a;
      assert.equal(loser.findOpen(RAISE.ruleId, RAISE.subject)?.id, winner);
      assert.equal(loser.raise(RAISE), null);
      const transitions = await stores[0].db
        .selectFrom('rule_alarm_transitions')
        .selectAll()
        .execute();
      assert.deepEqual(
        transitions.map((t) => [t.alarm_id, t.event]),
        [[winner, 'raise']],
      );
    });

    it('sees the other instance’s alarms and acts on them from the API', async () => {
      const [a, b] = books;
      const raised = a.raise(RAISE)!;
      assert.equal(await a.confirmed(raised), true);
      await waitFor(async () => {
        await b.catchUp();
        assert.ok(b.findOpen(RAISE.ruleId, RAISE.subject));
      }, 5000);
      const acked = (await runControl(b, {
        action: 'acknowledge',
        alarmId: raised.alarm.id,
        actor: 'alice',
        comment: 'seen',
      })) as { state: string };
      assert.equal(acked.state, 'active_ack');
      await waitFor(async () => {
        await a.catchUp();
        assert.equal(a.findOpen(RAISE.ruleId, RAISE.subject)?.state, 'active_ack');
      }, 5000);
      assert.deepEqual(
        heard[0].map((c) => c.transition.event),
        ['raise'],
        'a announces its own transitions only',
      );
      assert.deepEqual(
        heard[1].map((c) => c.transition.event),
        ['acknowledge'],
      );
    });

    it('keeps the first of two conflicting changes and reloads the other book', async () => {
      const [a, b] = books;
      const raised = a.raise(RAISE)!;
      await a.confirmed(raised);
      await b.catchUp();
      const cleared = a.clear(raised.alarm.id, { cause: 'condition', value: 20 });
      const acked = b.acknowledge(raised.alarm.id, { actor: 'bob' });
      const stored = await Promise.all([a.confirmed(cleared), b.confirmed(acked)]);
      assert.equal(stored.filter(Boolean).length, 1);
      const row = await stores[0].db
        .selectFrom('rule_alarms')
        .selectAll()
        .where('id', '=', raised.alarm.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.version, 2);
      assert.equal(row.state, stored[0] ? 'cleared_unack' : 'active_ack');
      const loser = stored[0] ? b : a;
      assert.equal(loser.openAlarms((x) => x.id === raised.alarm.id)[0]?.version ?? 2, 2);
      assert.equal(heard[0].length + heard[1].length, 2, 'the raise and one of the two');
    });
  });
}

sharedContract('SQLite', async () => sqliteSpec());
sharedContract('MariaDB', () => mariadbSpec('shared_book'));
