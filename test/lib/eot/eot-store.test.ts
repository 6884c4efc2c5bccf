// The EOT tables on SQLite and on real MariaDB: the replay window, login
// throttling, the offline queue and the device log.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeviceLog } from '../../../lib/eot/device-log';
import { addressKey, idKey, LoginThrottle, ReplayWindow } from '../../../lib/eot/login-guard';
import { OfflineQueue } from '../../../lib/eot/offline-queue';
import { openStore, Store, StoreSpec } from '../../../lib/store/store';
import { mariadb } from '../../support/services';

const T0 = Date.UTC(2026, 10, 21, 12);

function eotStoreContract(name: string, makeSpec: () => Promise<StoreSpec>) {
  describe(`EOT tables on ${name}`, function () {
    this.timeout(60_000);
    let store: Store;
    beforeEach(async () => {
      store = await openStore(await makeSpec());
    });
    afterEach(async () => {
      await store.close();
    });

    it('accepts an (id, random) pair once per window, concurrently too', async () => {
      const replay = new ReplayWindow(store.db, 1000);
      const claims = await Promise.all([1, 2, 3].map(() => replay.claim('mkr-01', '12345', T0)));
      assert.deepEqual(claims.sort(), [false, false, true]);
      assert.equal(await replay.claim('lamp-07', '12345', T0), true, 'per device');
      assert.equal(await replay.claim('mkr-01', '12345', T0 + 999), false);
      assert.equal(await replay.claim('mkr-01', '12345', T0 + 1000), true, 'after the window');
      await replay.prune(T0 + 5000);
      const left = await store.db.selectFrom('eot_auth_replay').selectAll().execute();
      assert.deepEqual(left, []);
    });

    it('locks a key out after the failures of one window, and lets it in after the lock', async () => {
      const throttle = new LoginThrottle(store.db, {
        maxFailures: 3,
        windowMs: 60_000,
        lockMs: 300_000,
      });
      const keys = [idKey('mkr-01'), addressKey('10.0.0.1')];
      await throttle.recordFailure(keys, T0);
      await throttle.recordFailure(keys, T0 + 1000);
      assert.equal(await throttle.lockedOut(keys, T0 + 1000), false);
      // A failure after the window starts counting again.
      await throttle.recordFailure([idKey('other')], T0);
      await throttle.recordFailure([idKey('other')], T0 + 61_000);
      await throttle.recordFailure([idKey('other')], T0 + 62_000);
      assert.equal(await throttle.lockedOut([idKey('other')], T0 + 62_000), false);
      await throttle.recordFailure(keys, T0 + 2000);
      assert.equal(await throttle.lockedOut([idKey('mkr-01')], T0 + 2000), true);
      assert.equal(await throttle.lockedOut([addressKey('10.0.0.1')], T0 + 2000), true);
      assert.equal(await throttle.lockedOut([idKey('lamp-07')], T0 + 2000), false);
      assert.equal(await throttle.lockedOut(keys, T0 + 302_000), false);
      await throttle.prune(T0 + 400_000);
      assert.equal(
        (await store.db.selectFrom('eot_login_failures').selectAll().execute()).length,
        0,
      );
    });

    it('keeps queued frames in order per destination, and finds the expired ones', async () => {
      const queue = new OfflineQueue(store.db);
      const frame = (n: string) => ({
        origin: 'mkr-01',
        destination: 'lamp-07',
        type: 'MSG',
        fields: [n],
      });
      await queue.add('acme', frame('1'), T0, 1000);
      await queue.add('acme', frame('2|with separator'), T0, 5000);
      await queue.add('acme', { ...frame('3'), destination: 'app-3' }, T0, 5000);
      assert.equal(await queue.countFor('lamp-07'), 2);
      const next = await queue.next('lamp-07', T0 + 10);
      assert.deepEqual(
        next.map((q) => q.frame.fields[0]),
        ['1', '2|with separator'],
      );
      assert.deepEqual(
        (await queue.next('lamp-07', T0 + 2000)).map((q) => q.frame.fields[0]),
        ['2|with separator'],
      );
      const expired = await queue.expired(T0 + 2000);
      assert.deepEqual(
        expired.map((q) => [q.frame.fields[0], q.customerId]),
        [['1', 'acme']],
      );
      await queue.remove(expired.map((q) => q.seq));
      assert.equal(await queue.depth(), 2);
    });

    it('records events and alarms and lists them newest first', async () => {
      const log = new DeviceLog(store.db);
      await log.record('event', {
        deviceId: 'mkr-01',
        customerId: 'acme',
        name: 'boot',
        value: 'v1',
        at: T0,
      });
      await log.record('event', {
        deviceId: 'mkr-01',
        customerId: 'acme',
        name: 'tick',
        value: '',
        at: T0 + 1,
      });
      await log.record('alarm', {
        deviceId: 'gx-1',
        customerId: 'globex',
        name: 'fire',
        value: '1',
        at: T0,
      });
      assert.deepEqual(
        (await log.list('event', { customerId: 'acme' })).map((e) => e.name),
        ['tick', 'boot'],
      );
      assert.deepEqual(
        (await log.list('event', { since: T0 + 1 })).map((e) => e.name),
        ['tick'],
      );
      const alarms = await log.list('alarm', { customerId: 'globex', name: 'fire' });
      assert.deepEqual(
        alarms.map((a) => [a.deviceId, a.value, a.at]),
        [['gx-1', '1', T0]],
      );
      assert.deepEqual(await log.list('alarm', { customerId: 'acme' }), []);
    });
  });
}

eotStoreContract('SQLite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-eot-store-'));
  return { kind: 'sqlite', file: path.join(dir, 'sensflow.db') };
});

eotStoreContract('MariaDB', async () => {
  const server = await mariadb();
  return { kind: 'mysql', url: await server.createDatabase('eot') };
});
