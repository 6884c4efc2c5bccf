// The demo on SQLite and on real MariaDB: added once (again: nothing more),
// every piece marked, and removed whole, dashboard users of its customers
// included, while a device type still in use by the user's own device stays.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  addDemo,
  DEMO_CUSTOMERS,
  DEMO_DESCRIPTION,
  DEMO_DEVICES,
  DEMO_TYPES,
  removeDemo,
} from '../../../lib/demo/demo-set';
import { Registry } from '../../../lib/registry/registry';
import { simulateSection } from '../../../lib/simulators/profile';
import { openStore, Store, StoreSpec } from '../../../lib/store/store';
import { mariadb } from '../../support/services';

function demoContract(name: string, makeSpec: () => Promise<StoreSpec>) {
  describe(`demo on ${name}`, function () {
    this.timeout(60_000);
    let store: Store;
    let registry: Registry;

    beforeEach(async () => {
      store = await openStore(await makeSpec());
      registry = new Registry(store.db, { credentialSecret: 'demo-test-secret' });
    });
    afterEach(async () => {
      await registry.close();
      await store.close();
    });

    it('adds marked customers, types and simulated devices once', async () => {
      assert.equal(await addDemo(registry), DEMO_DEVICES.length);
      assert.equal(await addDemo(registry), 0, 'a second run adds nothing');
      const customers = await registry.customers.list();
      for (const c of DEMO_CUSTOMERS) {
        const found = customers.find((x) => x.id === c.id);
        assert.match(found?.name ?? '', /\(simulated\)/);
      }
      const types = await registry.types.list();
      for (const t of DEMO_TYPES)
        assert.ok(
          types.some((x) => x.name === t.name),
          t.name,
        );
      const { items, total } = await registry.listDevices({ limit: 1000 });
      assert.equal(total, DEMO_DEVICES.length);
      for (const d of items) {
        assert.match(d.id, /^demo-/);
        assert.equal(d.description, DEMO_DESCRIPTION);
        assert.ok(simulateSection(d.config), `${d.id} has a simulate section`);
        assert.equal(d.outdatedAfterMs, 120_000);
        assert.ok(await registry.deviceSecret(d.id), 'EOT devices can log in with their serial');
      }
    });

    it('removes it all, users of its customers too, and keeps what the user added', async () => {
      await addDemo(registry);
      await registry.customers.add({ id: 'acme', name: 'ACME' });
      await registry.addDevice({
        id: 'mine',
        type: 'demo_shutter',
        customerId: 'acme',
        location: 'b/1',
      });
      await registry.users.add({
        username: 'alice',
        password: 'alice-password',
        customerId: 'demo-campus',
      });
      await registry.users.add({
        username: 'carol',
        password: 'carol-password',
        customerId: 'acme',
      });

      assert.equal(await removeDemo(registry), DEMO_DEVICES.length);
      assert.deepEqual(
        (await registry.customers.list()).map((c) => c.id),
        ['acme'],
      );
      assert.deepEqual(
        (await registry.listDevices({ limit: 1000 })).items.map((d) => d.id),
        ['mine'],
      );
      assert.deepEqual(
        (await registry.users.list()).map((u) => u.username),
        ['carol'],
      );
      const types = (await registry.types.list()).map((t) => t.name);
      assert.ok(types.includes('demo_shutter'), 'still used by a device of the user');
      assert.ok(!types.includes('demo_sensor'));
      assert.equal(await removeDemo(registry), 0, 'removing again is harmless');
    });
  });
}

demoContract('SQLite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-demo-'));
  return { kind: 'sqlite', file: path.join(dir, 'sensflow.db') };
});

demoContract('MariaDB', async () => {
  const server = await mariadb();
  return { kind: 'mysql', url: await server.createDatabase('demo') };
});
