// The sensflow-registry config node opens the store it names (migrated), shares
// it with other nodes naming the same store, and reports a bad configuration.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import registryNode from '../../nodes/sensflow-registry/sensflow-registry';
import type { RegistryConfigNode } from '../../nodes/sensflow-registry/registry-node';
import { mariadb } from '../support/services';
import { helper, load, startServer, stopServer } from '../support/node-helper';

describe('sensflow-registry node', function () {
  this.timeout(30_000);
  let dir: string;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-node-'));
    await startServer();
  });
  afterEach(async () => {
    await stopServer();
  });

  it('opens a migrated SQLite store, shared by two config nodes naming the same file', async () => {
    const file = path.join(dir, 'registry.db');
    await load(
      [registryNode],
      [
        { id: 'r1', type: 'sensflow-registry', store: 'sqlite', file },
        { id: 'r2', type: 'sensflow-registry', store: 'sqlite', file },
      ],
    );
    const r1 = helper.getNode('r1') as RegistryConfigNode;
    const r2 = helper.getNode('r2') as RegistryConfigNode;
    const [s1, s2] = await Promise.all([r1.store(), r2.store()]);
    assert.equal(s1, s2, 'one connection for one store');
    const tables = (await s1.db.introspection.getTables()).map((t) => t.name);
    assert.ok(tables.includes('sensflow_meta'));
    assert.ok(fs.existsSync(file));
  });

  it('offers the device registry on its store, one per store', async () => {
    const file = path.join(dir, 'registry.db');
    await load(
      [registryNode],
      [
        { id: 'r1', type: 'sensflow-registry', store: 'sqlite', file },
        { id: 'r2', type: 'sensflow-registry', store: 'sqlite', file },
      ],
    );
    const r1 = helper.getNode('r1') as RegistryConfigNode;
    const registry = await r1.registry();
    assert.equal(await (helper.getNode('r2') as RegistryConfigNode).directory(), registry);
    await registry.customers.add({ id: 'acme', name: 'ACME' });
    const { serial } = await registry.addDevice({
      id: 'mkr-01',
      type: 'mkr1000',
      customerId: 'acme',
      location: 'u4/300',
    });
    const directory = await r1.directory();
    assert.equal((await directory.findDevice('mkr-01'))?.customerId, 'acme');
    assert.equal(await directory.deviceSecret('mkr-01'), serial);
  });

  it('opens a MariaDB store from the URL kept as a credential', async () => {
    const url = await (await mariadb()).createDatabase('registry_node');
    await load([registryNode], [{ id: 'r1', type: 'sensflow-registry', store: 'mysql' }], {
      r1: { url },
    });
    const store = await (helper.getNode('r1') as RegistryConfigNode).store();
    assert.equal(store.dialect, 'mysql');
    await store.ping();
  });

  it('fails with a clear error when no file is given', async () => {
    await load(
      [registryNode],
      [{ id: 'r1', type: 'sensflow-registry', store: 'sqlite', file: '' }],
    );
    const node = helper.getNode('r1') as RegistryConfigNode;
    await assert.rejects(node.store(), /no SQLite file given/);
  });
});
