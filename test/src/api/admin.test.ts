// The admin REST API on SQLite and real MariaDB: login by editor token or API
// token, customers, device types, devices (create with a serial shown once,
// list with filters and paging, update, disable, reset, set serial, delete),
// dashboard users, and JSON errors naming the field. Then MariaDB stopped and
// started again: 503 with nothing half-written, and recovery by itself.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, Store, StoreSpec } from '../../../lib/store/store';
import { FakeClock } from '../../support/fake-clock';
import { mariadb } from '../../support/services';
import { API_TOKEN, ApiHarness, basic, call, EDITOR_TOKEN, startApi } from './api-harness';

const admin = { authorization: `Bearer ${EDITOR_TOKEN}` };

function adminContract(name: string, makeSpec: () => Promise<StoreSpec>) {
  describe(`admin API on ${name}`, function () {
    this.timeout(60_000);
    let store: Store;
    let api: ApiHarness;
    const v1 = (p: string) => `${api.url}/api/v1${p}`;
    const as = (method: string, p: string, body?: unknown) => call(v1(p), method, body, admin);

    beforeEach(async () => {
      store = await openStore(await makeSpec());
      api = await startApi(store, new FakeClock());
      assert.equal((await as('POST', '/customers', { id: 'acme', name: 'ACME' })).status, 201);
    });
    afterEach(async () => {
      await api.close();
      await store.close();
    });

    it('requires an editor admin token or the API token', async () => {
      assert.equal((await call(v1('/devices'), 'GET')).status, 401);
      const wrong = { authorization: 'Bearer not-the-token' };
      assert.equal((await call(v1('/devices'), 'GET', undefined, wrong)).status, 401);
      assert.equal((await call(v1('/devices'), 'GET', undefined, basic('admin', 'x'))).status, 401);
      const byApiToken = { authorization: `Bearer ${API_TOKEN}` };
      assert.equal((await call(v1('/devices'), 'GET', undefined, byApiToken)).status, 200);
      assert.equal((await as('GET', '/devices')).status, 200);
    });

    it('creates a device showing its serial once, and never again', async () => {
      const created = await as('POST', '/devices', {
        id: 'mkr-01',
        type: 'mkr1000',
        customerId: 'acme',
        location: 'u4/300',
        uidType: 'ethernet',
        uid: 'B8:27:EB:12:34:56',
      });
      assert.equal(created.status, 201);
      assert.match(created.body.serial, /^[0-9a-f]{32}$/);
      assert.equal(created.body.device.uid, 'b8:27:eb:12:34:56');
      const got = await as('GET', '/devices/mkr-01');
      assert.equal(got.status, 200);
      assert.ok(!JSON.stringify(got.body).includes(created.body.serial));
      assert.equal(got.body.serial, undefined);
      assert.equal(got.body.mqttPasswordHash, undefined);
      assert.equal(await api.registry.deviceSecret('mkr-01'), created.body.serial);
    });

    it('rejects bad input with the field path, writing nothing', async () => {
      await as('PUT', '/device-types/mkr1000', {
        configSchema: { type: 'object', properties: { interval: { type: 'integer' } } },
      });
      const base = { id: 'd1', type: 'mkr1000', customerId: 'acme', location: 'u4/300' };
      const cases: Array<[unknown, number, string]> = [
        [{ ...base, location: 'u4/+/x' }, 400, 'location'],
        [{ ...base, location: 'u4//300' }, 400, 'location'],
        [{ ...base, customerId: 'nobody' }, 400, 'customerId'],
        [{ ...base, type: 'toaster' }, 400, 'type'],
        [{ ...base, config: { interval: 'often' } }, 400, 'config/interval'],
        [{ ...base, id: 'bad id!' }, 400, 'id'],
        [{ ...base, colour: 'red' }, 400, 'colour'],
        [{ ...base, uidType: 'ethernet', uid: 'not-a-mac' }, 400, 'uid'],
      ];
      for (const [body, status, field] of cases) {
        const r = await as('POST', '/devices', body);
        assert.equal(r.status, status, JSON.stringify(r.body));
        assert.equal(r.body.path, field, JSON.stringify(r.body));
        assert.match(r.body.error, new RegExp(`^${field}: `));
      }
      const huge = await as('POST', '/devices', { ...base, config: { blob: 'x'.repeat(200_000) } });
      assert.equal(huge.status, 413);
      const broken = await call(v1('/devices'), 'POST', '{"id":', admin);
      assert.deepEqual([broken.status, broken.body.error], [400, 'request body is not valid JSON']);
      assert.equal((await as('GET', '/devices')).body.total, 0, 'nothing written');
      assert.equal((await as('POST', '/devices', base)).status, 201);
      const dup = await as('POST', '/devices', base);
      assert.deepEqual([dup.status, dup.body.path], [409, 'id']);
    });

    it('lists with filters and paging, updates, disables, resets, sets the serial, deletes', async () => {
      await as('POST', '/customers', { id: 'globex', name: 'Globex' });
      for (let i = 0; i < 5; i++) {
        await as('POST', '/devices', {
          id: `d${i}`,
          type: i % 2 ? 'esp32' : 'mkr1000',
          customerId: i < 3 ? 'acme' : 'globex',
          location: `u4/30${i}`,
        });
      }
      const page = await as('GET', '/devices?customer=acme&limit=2&offset=1');
      assert.deepEqual(
        [page.body.total, page.body.items.map((d: { id: string }) => d.id)],
        [3, ['d1', 'd2']],
      );
      const esp = await as('GET', '/devices?type=esp32');
      assert.deepEqual(
        esp.body.items.map((d: { id: string }) => d.id),
        ['d1', 'd3'],
      );
      assert.equal((await as('GET', '/devices?limit=0')).body.path, 'limit');

      const patched = await as('PATCH', '/devices/d0', {
        location: 'u4/hall',
        description: 'hall',
      });
      assert.deepEqual([patched.body.location, patched.body.description], ['u4/hall', 'hall']);
      assert.equal((await as('PATCH', '/devices/d0', { location: '#' })).body.path, 'location');
      assert.equal((await as('PATCH', '/devices/d0', { serial: 'x' })).body.path, 'serial');

      assert.equal((await as('POST', '/devices/d0/disable')).body.enabled, false);
      assert.equal((await as('GET', '/devices?enabled=false')).body.total, 1);
      assert.equal((await as('POST', '/devices/d0/enable')).body.enabled, true);

      const reset = await as('POST', '/devices/d0/reset-credentials');
      assert.equal(reset.body.credentialsDelivered, false);
      assert.equal(
        (await as('PUT', '/devices/d0/serial', { serial: 'short' })).body.path,
        'serial',
      );
      assert.equal(
        (await as('PUT', '/devices/d0/serial', { serial: 'new-serial-123' })).status,
        204,
      );
      assert.equal(await api.registry.deviceSecret('d0'), 'new-serial-123');

      assert.equal((await as('DELETE', '/devices/d0')).status, 204);
      assert.equal((await as('GET', '/devices/d0')).status, 404);
      assert.equal((await as('DELETE', '/devices/d0')).status, 404);
      const busy = await as('DELETE', '/customers/globex');
      assert.equal(busy.status, 409);
    });

    it('manages customers, device types and dashboard users', async () => {
      const customers = await as('GET', '/customers');
      assert.deepEqual(customers.body, [{ id: 'acme', name: 'ACME', devices: 0 }]);
      assert.equal((await as('POST', '/customers', { id: 'acme', name: 'again' })).status, 409);

      const saved = await as('PUT', '/device-types/shutter_box', {
        orders: { shutter: ['up', 'down', 'stop'] },
        outdatedAfterMs: 600_000,
      });
      assert.deepEqual(saved.body.orders, { shutter: ['up', 'down', 'stop'] });
      const bad = await as('PUT', '/device-types/shutter_box', { orders: { shutter: 'up' } });
      assert.deepEqual([bad.status, bad.body.path], [400, 'orders/shutter']);
      assert.equal((await as('DELETE', '/device-types/shutter_box')).status, 204);

      const user = await as('POST', '/users', {
        username: 'alice',
        password: 'correct horse',
        customerId: 'acme',
        role: 'operator',
      });
      assert.deepEqual(user.body, { username: 'alice', customerId: 'acme', role: 'operator' });
      assert.equal(
        (await as('POST', '/users', { username: 'bob', password: 'short' })).body.path,
        'password',
      );
      assert.equal(
        (await as('PUT', '/users/alice/password', { password: 'battery staple' })).status,
        204,
      );
      assert.ok(await api.registry.users.verify('alice', 'battery staple'));
      const listed = await as('GET', '/users');
      assert.ok(!JSON.stringify(listed.body).includes('$2'), 'no hashes in answers');
      assert.equal((await as('DELETE', '/users/alice')).status, 204);
      assert.equal((await as('GET', '/nowhere')).status, 404);
    });
  });
}

adminContract('SQLite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-admin-'));
  return { kind: 'sqlite', file: path.join(dir, 'r.db') };
});
adminContract('MariaDB', async () => ({
  kind: 'mysql',
  url: await (await mariadb()).createDatabase('admin_api'),
}));

describe('APIs while MariaDB is down', function () {
  this.timeout(120_000);
  let store: Store;
  let api: ApiHarness;

  before(async () => {
    store = await openStore({
      kind: 'mysql',
      url: await (await mariadb()).createDatabase('outage'),
    });
    api = await startApi(store, new FakeClock());
    await api.registry.customers.add({ id: 'acme', name: 'ACME' });
    await api.registry.addDevice({
      id: 'd1',
      type: 'mkr1000',
      customerId: 'acme',
      location: 'u4/300',
      uidType: 'ethernet',
      uid: '02:00:00:00:00:01',
    });
  });
  after(async () => {
    const db = await mariadb();
    if (!db.process.running) await db.process.start();
    await api.close();
    await store.close();
  });

  it('answers 503, writes nothing, and recovers once MariaDB is back', async () => {
    const db = await mariadb();
    await db.process.stop();
    const v1 = (p: string) => `${api.url}/api/v1${p}`;
    const list = await call(v1('/devices'), 'GET', undefined, admin);
    assert.equal(list.status, 503, JSON.stringify(list.body));
    const add = await call(
      v1('/devices'),
      'POST',
      { id: 'd2', type: 'mkr1000', customerId: 'acme', location: 'u4/301' },
      admin,
    );
    assert.equal(add.status, 503);
    const creds = await call(`${api.url}/device/credentials?mac=02:00:00:00:00:01`, 'GET');
    assert.equal(creds.status, 503);
    await db.process.start();
    let back = await call(v1('/devices'), 'GET', undefined, admin);
    for (let i = 0; i < 50 && back.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 200));
      back = await call(v1('/devices'), 'GET', undefined, admin);
    }
    assert.equal(back.status, 200);
    assert.deepEqual(
      back.body.items.map((d: { id: string }) => d.id),
      ['d1'],
      'd2 was not half-written',
    );
    const issued = await call(`${api.url}/device/credentials?mac=02:00:00:00:00:01`, 'GET');
    assert.ok(issued.body.password, 'the first password is still to be handed out');
  });
});
