// The device watchdog on a real registry (SQLite) with fake timers: outdated
// after 30 min to the millisecond, reminders, back, a device threshold, signs
// of life from another process, and the state rebuilt after a restart.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from '../../../lib/registry/registry';
import { DeviceWatchdog, WatchdogEvent } from '../../../lib/registry/watchdog';
import { openStore, Store } from '../../../lib/store/store';
import { FakeClock } from '../../support/fake-clock';

const SECRET = 'watchdog-test-credential-secret';
const MIN = 60_000;

describe('device watchdog', function () {
  this.timeout(30_000);
  let dir: string;
  let store: Store;
  let clock: FakeClock;
  let registry: Registry;
  let events: WatchdogEvent[];
  let watchdog: DeviceWatchdog | undefined;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-watchdog-'));
    store = await openStore({ kind: 'sqlite', file: path.join(dir, 'r.db') });
    clock = new FakeClock();
    registry = new Registry(store.db, { credentialSecret: SECRET, clock, seenFlushMs: 10 });
    await registry.customers.add({ id: 'acme', name: 'ACME' });
    for (const id of ['a', 'b'])
      await registry.addDevice({ id, type: 'mkr1000', customerId: 'acme', location: 'u4/300' });
    events = [];
  });
  afterEach(async () => {
    watchdog?.stop();
    watchdog = undefined;
    await registry.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function startWatchdog(repeatMs = 0, reg = registry) {
    watchdog = new DeviceWatchdog({ source: reg, clock, repeatMs, emit: (e) => events.push(e) });
    await watchdog.start();
    return watchdog;
  }

  const states = () => events.map((e) => `${e.deviceId}:${e.state}${e.repeat ? e.repeat : ''}`);

  it('says online at the first sign of life, outdated exactly 30 min later, back when seen', async () => {
    const w = await startWatchdog();
    assert.equal(w.stateOf('a'), 'unknown');
    const seenAt = clock.now();
    await registry.markSeen('a', seenAt);
    assert.deepEqual(states(), ['a:online']);
    await clock.advance(30 * MIN - 1);
    assert.deepEqual(states(), ['a:online'], 'not a millisecond early');
    await clock.advance(1);
    assert.deepEqual(states(), ['a:online', 'a:outdated']);
    assert.deepEqual(events[1], { deviceId: 'a', state: 'outdated', lastSeen: seenAt });
    assert.equal(w.stateOf('a'), 'outdated');
    await registry.markSeen('a', clock.now());
    assert.deepEqual(states(), ['a:online', 'a:outdated', 'a:back']);
    assert.equal(w.stateOf('b'), 'unknown', 'a device never seen is not outdated');
  });

  it('postpones the deadline with each sign of life (one exact timer per device)', async () => {
    await startWatchdog();
    await registry.markSeen('a', clock.now());
    await clock.advance(20 * MIN);
    await registry.markSeen('a', clock.now());
    await clock.advance(29 * MIN);
    assert.deepEqual(states(), ['a:online']);
    await clock.advance(1 * MIN);
    assert.deepEqual(states(), ['a:online', 'a:outdated']);
  });

  it('reminds at the repeat interval while a device stays outdated', async () => {
    await startWatchdog(10 * MIN);
    await registry.markSeen('a', clock.now());
    await clock.advance(30 * MIN + 25 * MIN);
    assert.deepEqual(states(), ['a:online', 'a:outdated', 'a:outdated1', 'a:outdated2']);
    await registry.markSeen('a', clock.now());
    await clock.advance(20 * MIN);
    assert.deepEqual(states().slice(4), ['a:back'], 'no reminder once back');
  });

  it("uses the device's own threshold, then its type's", async () => {
    await registry.types.save({ name: 'mkr1000', outdatedAfterMs: 5 * MIN });
    await registry.updateDevice('b', { outdatedAfterMs: 2 * MIN });
    await startWatchdog();
    await registry.markSeen('a', clock.now());
    await registry.markSeen('b', clock.now());
    await clock.advance(2 * MIN);
    assert.deepEqual(states(), ['a:online', 'b:online', 'b:outdated']);
    await clock.advance(3 * MIN);
    assert.deepEqual(states(), ['a:online', 'b:online', 'b:outdated', 'a:outdated']);
  });

  it('counts a sign of life recorded by another process when its timer fires', async () => {
    await startWatchdog();
    await registry.markSeen('a', clock.now());
    await registry.flushSeen();
    const other = new Registry(store.db, { credentialSecret: SECRET, clock });
    await clock.advance(25 * MIN);
    await other.markSeen('a', clock.now());
    await other.flushSeen();
    await other.close();
    await clock.advance(5 * MIN);
    assert.deepEqual(states(), ['a:online'], 'not outdated: seen elsewhere 5 min ago');
    await clock.advance(25 * MIN);
    assert.deepEqual(states(), ['a:online', 'a:outdated']);
  });

  it('stops watching a disabled device and picks up a new one', async () => {
    await startWatchdog();
    await registry.markSeen('a', clock.now());
    await registry.setEnabled('a', false);
    await registry.addDevice({ id: 'c', type: 'esp32', customerId: 'acme', location: 'u4/301' });
    await registry.markSeen('c', clock.now());
    await clock.advance(31 * MIN);
    assert.deepEqual(states(), ['a:online', 'c:online', 'c:outdated']);
  });

  it('rebuilds the state after a restart: outdated stays outdated, reminders keep time, back when seen', async () => {
    await registry.markSeen('a', clock.now()); // outdated at +30, reminders at +40, +50…
    await registry.markSeen('b', clock.now() - 10 * MIN); // outdated at +20
    await registry.flushSeen();
    await clock.advance(35 * MIN);
    // A new process starts: the same store, no memory of the old watchdog.
    const restarted = new Registry(store.db, { credentialSecret: SECRET, clock });
    try {
      const w = await startWatchdog(10 * MIN, restarted);
      assert.equal(w.stateOf('a'), 'outdated');
      assert.equal(w.stateOf('b'), 'outdated');
      assert.deepEqual(states(), [], 'no repeated alarm at start');
      await clock.advance(5 * MIN);
      assert.deepEqual(states(), ['a:outdated1', 'b:outdated2']);
      await restarted.markSeen('b', clock.now());
      assert.deepEqual(states().slice(2), ['b:back']);
      assert.equal(w.stateOf('b'), 'online');
    } finally {
      watchdog?.stop();
      watchdog = undefined;
      await restarted.close();
    }
  });

  it('with several instances, only each device’s owner speaks, and the owner’s successor takes over', async () => {
    // Two instances, i1 and i2, watch the same registry; who owns what is decided here.
    const alive = new Set(['i1', 'i2']);
    const ownerOf = (id: string) => (id === 'a' ? 'i1' : alive.has('i2') ? 'i2' : 'i1');
    const listeners = new Set<() => void>();
    const instanceEvents: Record<string, string[]> = { i1: [], i2: [] };
    const seenElsewhere = new Registry(store.db, {
      credentialSecret: SECRET,
      clock,
      seenFlushMs: 10,
    });
    const dogs = ['i1', 'i2'].map(
      (me) =>
        new DeviceWatchdog({
          source: {
            listDevices: (f) => registry.listDevices(f),
            getDevice: (id) => registry.getDevice(id),
            watch: (l) => registry.watch(l),
            // Signs of life recorded in i1's process only.
            watchSeen: (l) => (me === 'i1' ? registry.watchSeen(l) : () => undefined),
            lastSeenOf: async (ids) => {
              await registry.flushSeen();
              await seenElsewhere.flushSeen();
              const m = new Map<string, number | null>();
              for (const id of ids) m.set(id, (await registry.getDevice(id))?.lastSeen ?? null);
              return m;
            },
          },
          clock,
          emit: (e) => instanceEvents[me].push(`${e.deviceId}:${e.state}`),
          ownership: {
            owns: (id) => ownerOf(id) === me,
            onChange: (l) => {
              listeners.add(l);
              return () => listeners.delete(l);
            },
            handoverMs: 10_000,
            recheckMs: 60_000,
          },
        }),
    );
    try {
      for (const d of dogs) await d.start();
      await registry.markSeen('a', clock.now());
      await registry.markSeen('b', clock.now());
      await registry.flushSeen();
      // i2 owns b: it learns b's first sign of life at its recheck.
      await clock.advance(61_000);
      await clock.advance(30 * MIN);
      assert.deepEqual(instanceEvents.i1, ['a:online', 'a:outdated']);
      assert.deepEqual(instanceEvents.i2, ['b:online', 'b:outdated']);
      // b is seen again in i1's process: i2, its owner, says it is back.
      await registry.markSeen('b', clock.now());
      await clock.advance(60_000);
      assert.deepEqual(instanceEvents.i1, ['a:online', 'a:outdated']);
      assert.deepEqual(instanceEvents.i2, ['b:online', 'b:outdated', 'b:back']);
      // i2 is killed just before b goes outdated again; i1's timer fires while
      // i2 still counts as alive (parked), then i2 is declared lost: i1 says it, once.
      await clock.advance(30 * MIN - 60_000 - 2_000);
      dogs[1].stop();
      await clock.advance(3_000);
      assert.deepEqual(instanceEvents.i1, ['a:online', 'a:outdated']);
      await clock.advance(3_000);
      alive.delete('i2');
      for (const l of listeners) l();
      await clock.advance(1);
      assert.deepEqual(instanceEvents.i1, ['a:online', 'a:outdated', 'b:outdated']);
      assert.deepEqual(instanceEvents.i2, ['b:online', 'b:outdated', 'b:back']);
    } finally {
      for (const d of dogs) d.stop();
      await seenElsewhere.close();
    }
  });
});
