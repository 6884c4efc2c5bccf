// Export and import between two registries: serials sealed by the
// passphrase, MQTT passwords kept under the same credential secret and reset
// under another one, and a failed import that writes nothing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RegistryError } from '../../../lib/registry/errors';
import { Registry } from '../../../lib/registry/registry';
import { exportRegistry, importRegistry } from '../../../lib/registry/transfer';
import { openStore, Store } from '../../../lib/store/store';

const PASSPHRASE = 'a long export passphrase';

describe('registry export and import', function () {
  this.timeout(30_000);
  const opened: Array<{ store: Store; registry: Registry }> = [];

  async function registry(secret: string) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-transfer-'));
    const store = await openStore({ kind: 'sqlite', file: path.join(dir, 'r.db') });
    const reg = new Registry(store.db, { credentialSecret: secret });
    opened.push({ store, registry: reg });
    return reg;
  }
  afterEach(async () => {
    for (const { store, registry: r } of opened.splice(0)) {
      await r.close();
      await store.close();
    }
  });

  async function exported(from: Registry, secret: string) {
    const lines: string[] = [];
    for await (const line of exportRegistry(from, secret, PASSPHRASE)) lines.push(line);
    return lines;
  }

  async function source() {
    const from = await registry('secret-one-0123456789');
    await from.customers.add({ id: 'acme', name: 'ACME' });
    await from.types.save({ name: 'shutter_box', orders: { shutter: ['up', 'down'] } });
    await from.addDevice({
      id: 'd1',
      type: 'shutter_box',
      customerId: 'acme',
      location: 'u4/300',
      uidType: 'ethernet',
      uid: '02:00:00:00:00:01',
      serial: 'serial-number-d1',
    });
    await from.users.add({ username: 'alice', password: 'alice password', customerId: 'acme' });
    const { password } = await from.credentialsForUid('02:00:00:00:00:01');
    return { from, password: password! };
  }

  it('keeps MQTT passwords under the same credential secret', async () => {
    const { from, password } = await source();
    const lines = await exported(from, 'secret-one-0123456789');
    assert.ok(!lines.join('\n').includes('serial-number-d1'));
    const to = await registry('secret-one-0123456789');
    const summary = await importRegistry(to, 'secret-one-0123456789', lines, PASSPHRASE);
    assert.deepEqual(summary, {
      customers: 1,
      deviceTypes: 8,
      devices: 1,
      users: 1,
      credentialsReset: 0,
    });
    assert.equal(await to.deviceSecret('d1'), 'serial-number-d1');
    assert.ok(await to.authenticateMqtt('d1', password));
    assert.ok(await to.users.verify('alice', 'alice password'));
    assert.deepEqual(await to.types.allowedOrders('shutter_box', 'shutter'), ['up', 'down']);
  });

  it('resets MQTT credentials under another credential secret, keeping the serial', async () => {
    const { from, password } = await source();
    const lines = await exported(from, 'secret-one-0123456789');
    const to = await registry('secret-two-0123456789');
    const summary = await importRegistry(to, 'secret-two-0123456789', lines, PASSPHRASE);
    assert.equal(summary.credentialsReset, 1);
    assert.equal(await to.authenticateMqtt('d1', password), null);
    assert.equal((await to.getDevice('d1'))?.credentialsDelivered, false);
    assert.equal(await to.deviceSecret('d1'), 'serial-number-d1');
  });

  it('writes nothing when a line is bad or the passphrase is wrong', async () => {
    const { from } = await source();
    const lines = await exported(from, 'secret-one-0123456789');
    const to = await registry('secret-one-0123456789');
    await assert.rejects(
      importRegistry(to, 'secret-one-0123456789', lines, 'another passphrase!'),
      (err: unknown) => err instanceof RegistryError && /wrong passphrase/.test(err.message),
    );
    const broken = [...lines.slice(0, -1), '{"device": {"id": "bad id"}}'];
    await assert.rejects(importRegistry(to, 'secret-one-0123456789', broken, PASSPHRASE), /id/);
    assert.deepEqual(await to.customers.list(), []);
    assert.equal((await to.listDevices()).total, 0);
    await assert.rejects(importRegistry(to, 'x', ['{}'], PASSPHRASE), /export header/);
  });
});
