// The provisioning endpoints of topics.md on SQLite and real MariaDB: the
// credentials flow (first call, second call, reset), config with HTTP Basic,
// 404/403 with nothing more, throttling per address, a password withdrawn
// when the broker cannot take it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, Store, StoreSpec } from '../../../lib/store/store';
import { FakeClock } from '../../support/fake-clock';
import { mariadb } from '../../support/services';
import { ApiHarness, basic, call, startApi } from './api-harness';

const MAC = 'b8:27:eb:12:34:56';

function provisioningContract(name: string, makeSpec: () => Promise<StoreSpec>) {
  describe(`provisioning API on ${name}`, function () {
    this.timeout(60_000);
    let store: Store;
    let clock: FakeClock;
    let api: ApiHarness;

    async function setUp(options: Parameters<typeof startApi>[2] = {}) {
      api = await startApi(store, clock, options);
      await api.registry.customers.add({ id: 'acme', name: 'ACME' });
      await api.registry.types.save({
        name: 'mkr1000',
        configSchema: {
          type: 'object',
          properties: { interval: { type: 'integer', minimum: 10 } },
        },
      });
      await api.registry.addDevice({
        id: 'mkr-01',
        type: 'mkr1000',
        customerId: 'acme',
        location: 'u4/300',
        uidType: 'ethernet',
        uid: MAC,
        config: { interval: 60 },
      });
    }

    beforeEach(async () => {
      store = await openStore(await makeSpec());
      clock = new FakeClock();
    });
    afterEach(async () => {
      await api?.close();
      await store.close();
    });

    it('hands out the password on the first call only, and again after a reset', async () => {
      await setUp();
      const first = await call(`${api.url}/device/credentials?mac=B8-27-EB-12-34-56`, 'GET');
      assert.equal(first.status, 200);
      assert.equal(first.body.login, 'mkr-01');
      assert.match(first.body.password, /^[A-Za-z0-9_-]{24}$/);
      assert.equal(first.headers.get('cache-control'), 'no-store');
      const second = await call(`${api.url}/device/credentials?mac=${MAC}`, 'GET');
      assert.deepEqual(second.body, { login: 'mkr-01' });
      await api.registry.resetCredentials('mkr-01');
      const third = await call(`${api.url}/device/credentials?mac=${MAC}`, 'GET');
      assert.ok(third.body.password && third.body.password !== first.body.password);
    });

    it('serves the config to the device with HTTP Basic and its credentials', async () => {
      await setUp();
      const { body } = await call(`${api.url}/device/credentials?mac=${MAC}`, 'GET');
      const ok = await call(
        `${api.url}/device/config`,
        'GET',
        undefined,
        basic('mkr-01', body.password),
      );
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.body, {
        mqtt: { server: 'iot.example.org', port: 1883, base_topic: 'u4/300', login: 'mkr-01' },
        config: { interval: 60 },
      });
      const wrong = await call(
        `${api.url}/device/config`,
        'GET',
        undefined,
        basic('mkr-01', 'nope'),
      );
      assert.equal(wrong.status, 401);
      assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic/);
      const none = await call(`${api.url}/device/config`, 'GET');
      assert.equal(none.status, 401);
      const unknown = await call(`${api.url}/device/config`, 'GET', undefined, basic('ghost', 'x'));
      assert.deepEqual([unknown.status, unknown.body], [404, { error: 'not found' }]);
    });

    it('answers 404 and 403 with nothing more for unknown and disabled devices', async () => {
      await setUp();
      const { body } = await call(`${api.url}/device/credentials?mac=${MAC}`, 'GET');
      const unknown = await call(`${api.url}/device/credentials?mac=00:00:00:00:00:99`, 'GET');
      assert.deepEqual([unknown.status, unknown.body], [404, { error: 'not found' }]);
      await api.registry.setEnabled('mkr-01', false);
      const disabled = await call(`${api.url}/device/credentials?mac=${MAC}`, 'GET');
      assert.deepEqual([disabled.status, disabled.body], [403, { error: 'forbidden' }]);
      const config = await call(
        `${api.url}/device/config`,
        'GET',
        undefined,
        basic('mkr-01', body.password),
      );
      assert.deepEqual([config.status, config.body], [403, { error: 'forbidden' }]);
      const missing = await call(`${api.url}/device/credentials`, 'GET');
      assert.equal(missing.status, 400);
    });

    it('throttles each address, and lets it in again after a minute', async () => {
      await setUp({ ratePerMinute: 5 });
      for (let i = 0; i < 5; i++) {
        const r = await call(`${api.url}/device/credentials?mac=00:00:00:00:00:0${i}`, 'GET');
        assert.equal(r.status, 404);
      }
      const blocked = await call(
        `${api.url}/device/config`,
        'GET',
        undefined,
        basic('mkr-01', 'x'),
      );
      assert.equal(blocked.status, 429);
      assert.ok(Number(blocked.headers.get('retry-after')) > 0);
      await clock.advance(60_000);
      const again = await call(`${api.url}/device/credentials?mac=${MAC}`, 'GET');
      assert.equal(again.status, 200);
    });

    it('withdraws a password the broker could not take, so the next call gets one', async () => {
      let brokerUp = false;
      await setUp({
        onPasswordIssued: async () => {
          if (!brokerUp) throw new Error('Mosquitto is not reachable');
        },
      });
      const failed = await call(`${api.url}/device/credentials?mac=${MAC}`, 'GET');
      assert.equal(failed.status, 503);
      assert.equal(failed.body.password, undefined);
      brokerUp = true;
      const retried = await call(`${api.url}/device/credentials?mac=${MAC}`, 'GET');
      assert.equal(retried.status, 200);
      assert.ok(retried.body.password);
    });
  });
}

provisioningContract('SQLite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-prov-'));
  return { kind: 'sqlite', file: path.join(dir, 'r.db') };
});
provisioningContract('MariaDB', async () => ({
  kind: 'mysql',
  url: await (await mariadb()).createDatabase('provisioning'),
}));
