// The alarm lifecycle on SQLite and on real MariaDB: every transition stored
// with its time and cause, the queries by device, customer and severity, and
// a restart (of the engine and the book) in the middle of a `for` window and
// of a shelve.
import assert from 'node:assert/strict';
import { AlarmError } from '../../../lib/alarms/errors';
import { openStore, Store, StoreSpec } from '../../../lib/store/store';
import { FakeClock } from '../../support/fake-clock';
import { MemoryDirectory } from '../../support/memory-directory';
import { kindIs, mariadbSpec, reading, Rig, rig, ruleSet, sqliteSpec, valueAbove } from './harness';

const MIN = 60_000;

function alarmError(fn: () => unknown, kind: AlarmError['kind'], message?: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AlarmError, String(err));
    assert.equal(err.kind, kind, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

function lifecycleContract(name: string, makeSpec: () => Promise<StoreSpec>) {
  describe(`alarm lifecycle on ${name}`, function () {
    this.timeout(60_000);
    let clock: FakeClock;
    let store: Store;
    let r: Rig;
    const directory = new MemoryDirectory([
      { id: 'mkr-01', customerId: 'acme', location: 'u4/300' },
      { id: 'esp-07', customerId: 'globex', location: 'bu/hall' },
    ]);
    const hot = ruleSet([
      {
        name: 'hot',
        severity: 'minor',
        conditions: { all: [kindIs('temperature'), valueAbove(28)] },
      },
      {
        name: 'slow',
        per: 'location',
        conditions: { all: [kindIs('humidity'), valueAbove(80)] },
        for: '10m',
      },
    ]);
    const eot = (device: string, value: number) => ({
      payload: {
        origin: device,
        destination: 'SERVER',
        type: 'READING',
        fields: ['temperature', String(value), 'C', ''],
      },
    });

    beforeEach(async () => {
      clock = new FakeClock();
      store = await openStore(await makeSpec());
      r = await rig({ clock, sets: [hot], store, directory });
    });
    afterEach(async () => {
      await r.stop();
      await store.close();
    });

    it('goes active, acknowledged, then closed when the condition clears, storing each step', async () => {
      await r.send(eot('mkr-01', 30));
      const id = r.changes[0].alarm.id;
      await clock.advance(MIN);
      r.book.acknowledge(id, { actor: 'alice', comment: 'on my way' });
      await clock.advance(MIN);
      await r.send(eot('mkr-01', 22));
      await r.book.flush();
      const stored = await r.book.get(id);
      assert.equal(stored.state, 'closed');
      assert.equal(stored.ackedBy, 'alice');
      assert.equal(stored.ackComment, 'on my way');
      assert.equal(stored.customerId, 'acme');
      assert.equal(stored.deviceId, 'mkr-01');
      const t0 = clock.now() - 2 * MIN;
      assert.deepEqual(
        (await r.book.transitions(id)).map((t) => [
          t.version,
          t.event,
          t.from,
          t.to,
          t.at - t0,
          t.cause,
          t.actor,
          t.value,
        ]),
        [
          [1, 'raise', null, 'active_unack', 0, 'condition', null, 30],
          [2, 'acknowledge', 'active_unack', 'active_ack', MIN, 'manual', 'alice', null],
          [3, 'clear', 'active_ack', 'closed', 2 * MIN, 'condition', null, 22],
        ],
      );
    });

    it('keeps a cleared unacknowledged alarm, brings the same one back, and closes it on acknowledge', async () => {
      await r.send(eot('mkr-01', 30));
      const id = r.changes[0].alarm.id;
      await r.send(eot('mkr-01', 20));
      assert.equal(r.book.findOpen('test/hot', 'mkr-01')?.state, 'cleared_unack');
      await r.send(eot('mkr-01', 31));
      assert.equal(r.book.findOpen('test/hot', 'mkr-01')?.id, id, 'the same alarm');
      r.book.acknowledge(id, { actor: 'bob' });
      r.book.clear(id, { actor: 'bob', comment: 'fan fixed' });
      assert.equal(r.book.findOpen('test/hot', 'mkr-01'), undefined);
      assert.deepEqual(
        r.changes.map(
          (c) =>
            `${c.transition.event}:${c.transition.from}>${c.alarm.state}:${c.transition.cause}`,
        ),
        [
          'raise:null>active_unack:condition',
          'clear:active_unack>cleared_unack:condition',
          'reraise:cleared_unack>active_unack:condition',
          'acknowledge:active_unack>active_ack:manual',
          'clear:active_ack>closed:manual',
        ],
      );
      assert.equal((await r.book.transitions(id)).length, 5);
      await r.send(eot('mkr-01', 32));
      assert.notEqual(
        r.book.findOpen('test/hot', 'mkr-01')?.id,
        id,
        'a closed alarm never reopens',
      );
    });

    it('refuses transitions that do not apply, changing nothing', async () => {
      await r.send(eot('mkr-01', 30));
      const id = r.changes[0].alarm.id;
      r.book.acknowledge(id);
      alarmError(() => r.book.acknowledge(id), 'conflict', /already acknowledged/);
      alarmError(() => r.book.escalate(id, 'warning'), 'conflict', /not above minor/);
      alarmError(() => r.book.unshelve(id), 'conflict', /not shelved/);
      alarmError(() => r.book.acknowledge('nope'), 'not_found');
      await assert.rejects(r.book.get('nope'), /no alarm nope/);
      assert.equal(r.changes.length, 2);
      assert.equal((await r.book.transitions(id)).length, 2);
    });

    it('escalation by hand asks for a new acknowledgement', async () => {
      await r.send(eot('mkr-01', 30));
      const id = r.changes[0].alarm.id;
      r.book.acknowledge(id, { actor: 'alice' });
      const { alarm } = r.book.escalate(id, 'critical', { actor: 'bob', comment: 'smoke' });
      assert.equal(alarm.severity, 'critical');
      assert.equal(alarm.state, 'active_unack');
      assert.equal(alarm.ackedBy, null);
    });

    it('lists active alarms and history by device, customer and severity', async () => {
      await r.send(eot('mkr-01', 30));
      await clock.advance(MIN);
      await r.send(eot('esp-07', 40));
      r.book.escalate(r.changes[1].alarm.id, 'critical');
      await r.send(eot('mkr-01', 20));
      r.book.acknowledge(r.changes[0].alarm.id);
      const ids = async (filter: Parameters<typeof r.book.list>[0]) =>
        (await r.book.list(filter)).items.map((a) => a.deviceId);
      assert.deepEqual(await ids({}), ['esp-07']);
      assert.deepEqual(await ids({ state: 'all' }), ['esp-07', 'mkr-01'], 'newest first');
      assert.deepEqual(await ids({ state: 'closed' }), ['mkr-01']);
      assert.deepEqual(await ids({ state: 'all', customerId: 'acme' }), ['mkr-01']);
      assert.deepEqual(await ids({ state: 'all', severity: 'critical' }), ['esp-07']);
      assert.deepEqual(await ids({ state: 'all', deviceId: 'mkr-01' }), ['mkr-01']);
      assert.deepEqual(await ids({ state: 'all', ruleSet: 'test' }), ['esp-07', 'mkr-01']);
      assert.deepEqual(await ids({ state: 'all', ruleSet: 'tes' }), []);
      assert.deepEqual(await ids({ state: 'all', since: clock.now() }), ['esp-07']);
      const page = await r.book.list({ state: 'all', limit: 1, offset: 1 });
      assert.equal(page.total, 2);
      assert.deepEqual(
        page.items.map((a) => a.deviceId),
        ['mkr-01'],
      );
    });

    it('resumes a `for` window after a restart with the time already elapsed', async () => {
      const t0 = clock.now();
      await r.send(reading('u4/300', 'humidity', 85));
      await clock.advance(4 * MIN);
      await r.send(reading('u4/300', 'humidity', 86));
      await r.stop();
      // Down for three minutes.
      await clock.advance(3 * MIN);
      r = await rig({ clock, sets: [hot], store, directory });
      await clock.advance(3 * MIN - 1);
      assert.equal(r.changes.length, 0);
      await clock.advance(1);
      assert.deepEqual(
        r.changes.map((c) => [c.transition.event, c.alarm.subject, c.alarm.value]),
        [['raise', 'u4/300', 86]],
      );
      assert.equal(
        r.changes[0].alarm.raisedAt - t0,
        10 * MIN,
        '10 minutes after the first reading',
      );
    });

    it('keeps open alarms and shelves across a restart, and unshelves on time', async () => {
      await r.send(eot('mkr-01', 30));
      const id = r.changes[0].alarm.id;
      r.book.shelve(id, 20 * MIN, { actor: 'alice' });
      await clock.advance(5 * MIN);
      await r.stop();
      r = await rig({ clock, sets: [hot], store, directory });
      assert.equal(r.book.findOpen('test/hot', 'mkr-01')?.shelvedBy, 'alice');
      await clock.advance(15 * MIN);
      assert.deepEqual(
        r.changes.map((c) => `${c.transition.event}:${c.transition.cause}`),
        ['unshelve:expired'],
      );
      // The restarted engine still clears it by condition.
      await r.send(eot('mkr-01', 20));
      assert.equal(r.book.findOpen('test/hot', 'mkr-01')?.state, 'cleared_unack');
    });

    it('a manual clear while the condition holds needs the window again to raise anew', async () => {
      await r.send(reading('u4/300', 'humidity', 85));
      await clock.advance(10 * MIN);
      const id = r.changes[0].alarm.id;
      r.book.acknowledge(id);
      r.book.clear(id, { actor: 'alice' });
      await r.send(reading('u4/300', 'humidity', 85));
      await clock.advance(9 * MIN);
      assert.equal(r.book.findOpen('test/slow', 'u4/300'), undefined);
      await clock.advance(MIN);
      assert.equal(r.book.findOpen('test/slow', 'u4/300')?.state, 'active_unack');
    });
  });
}

lifecycleContract('SQLite', async () => sqliteSpec());
lifecycleContract('MariaDB', () => mariadbSpec('alarms_lifecycle'));
