// The registry on SQLite and on real MariaDB: customers, device types,
// devices with their secrets, provisioning credentials, the change feed seen
// by a second process, signs of life, dashboard users.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { DeviceChange } from '../../../lib/registry/directory';
import { RegistryError } from '../../../lib/registry/errors';
import { Registry } from '../../../lib/registry/registry';
import { openStore, Store, StoreSpec } from '../../../lib/store/store';
import { FakeClock } from '../../support/fake-clock';
import { mariadb } from '../../support/services';

const SECRET = 'registry-test-credential-secret';

async function rejectsWith(
  promise: Promise<unknown>,
  kind: RegistryError['kind'],
  pathRe?: RegExp,
) {
  const err = await promise.then(
    () => assert.fail('expected a RegistryError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof RegistryError, `not a RegistryError: ${String(err)}`);
  assert.equal(err.kind, kind, err.message);
  if (pathRe) assert.match(err.path ?? '', pathRe, err.message);
  return err;
}

function registryContract(name: string, makeSpec: () => Promise<StoreSpec>) {
  describe(`registry on ${name}`, function () {
    this.timeout(60_000);
    let store: Store;
    let registry: Registry;
    let clock: FakeClock;

    beforeEach(async () => {
      store = await openStore(await makeSpec());
      clock = new FakeClock();
      registry = new Registry(store.db, { credentialSecret: SECRET, clock, pollIntervalMs: 500 });
      await registry.customers.add({ id: 'acme', name: 'ACME' });
      await registry.customers.add({ id: 'globex', name: 'Globex' });
    });
    afterEach(async () => {
      await registry.close();
      await store.close();
    });

    const device = (id: string, extra: Record<string, unknown> = {}) => ({
      id,
      type: 'mkr1000',
      customerId: 'acme',
      location: 'u4/300',
      ...extra,
    });

    async function deviceCount(): Promise<number> {
      const row = await store.db
        .selectFrom('devices')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirst();
      return Number(row?.n);
    }

    it('seeds the device types of the seeds', async () => {
      const names = (await registry.types.list()).map((t) => t.name);
      assert.deepEqual(names, [
        'app',
        'bbgw',
        'esp32',
        'jetson_nano',
        'lorawan',
        'mkr1000',
        'rpi3',
      ]);
    });

    it('adds a device with a generated serial, kept only encrypted', async () => {
      const { device: d, serial } = await registry.addDevice(
        device('mkr-01', { uidType: 'ethernet', uid: 'B8-27-EB-12-34-56' }),
      );
      assert.match(serial, /^[0-9a-f]{32}$/);
      assert.equal(d.uid, 'b8:27:eb:12:34:56', 'MAC in its normal form');
      assert.equal(d.enabled, true);
      assert.equal(d.outdatedAfterMs, 30 * 60_000);
      assert.equal(await registry.deviceSecret('mkr-01'), serial);
      const raw = await store.db
        .selectFrom('devices')
        .selectAll()
        .where('id', '=', 'mkr-01')
        .executeTakeFirstOrThrow();
      assert.ok(!JSON.stringify(raw).includes(serial), 'no plain serial in the row');
      assert.ok(!JSON.stringify(d).includes(serial), 'no serial in the record');
    });

    it('keeps a given serial and lets an administrator change it', async () => {
      await registry.addDevice(device('rpi-7', { serial: 'S3rial-given-1' }));
      assert.equal(await registry.deviceSecret('rpi-7'), 'S3rial-given-1');
      await registry.setSerial('rpi-7', 'S3rial-changed-2');
      assert.equal(await registry.deviceSecret('rpi-7'), 'S3rial-changed-2');
      await rejectsWith(registry.setSerial('rpi-7', 'has|bar!'), 'invalid', /^serial$/);
    });

    const badInputs: Array<[string, Record<string, unknown>, RegExp, RegistryError['kind']]> = [
      ['an id with a space', { id: 'bad id' }, /^id$/, 'invalid'],
      ['an id over 64 characters', { id: 'x'.repeat(65) }, /^id$/, 'invalid'],
      ['an unknown customer', { customerId: 'nobody' }, /^customerId$/, 'invalid'],
      ['an unknown type', { type: 'toaster' }, /^type$/, 'invalid'],
      ['a wildcard location', { location: 'u4/+/300' }, /^location$/, 'invalid'],
      ['an empty level', { location: 'u4//300' }, /^location$/, 'invalid'],
      ['a reserved last level', { location: 'u4/300/command' }, /^location$/, 'invalid'],
      ['abroad without a place', { location: 'abroad/carcassonne' }, /^location$/, 'invalid'],
      ['a bad MAC', { uidType: 'ethernet', uid: 'zz:zz' }, /^uid$/, 'invalid'],
      ['a bad EUI', { uidType: 'lorawan', uid: '1234' }, /^uid$/, 'invalid'],
      ['a config that is not an object', { config: [1, 2] }, /^config$/, 'invalid'],
      ['an oversize config', { config: { blob: 'x'.repeat(70_000) } }, /^config$/, 'invalid'],
    ];
    for (const [what, extra, pathRe, kind] of badInputs) {
      it(`refuses ${what}, writing nothing`, async () => {
        await rejectsWith(registry.addDevice(device('dev-bad', extra)), kind, pathRe);
        assert.equal(await deviceCount(), 0);
      });
    }

    it('refuses a duplicate id or uid', async () => {
      await registry.addDevice(device('dev-1', { uidType: 'lorawan', uid: '70B3D57ED0000001' }));
      await rejectsWith(registry.addDevice(device('dev-1')), 'conflict', /^id$/);
      await rejectsWith(
        registry.addDevice(device('dev-2', { uidType: 'lorawan', uid: '70b3d57ed0000001' })),
        'conflict',
        /^uid$/,
      );
      assert.equal(await deviceCount(), 1);
    });

    it('validates a config against its type schema, naming the path', async () => {
      await registry.types.save({
        name: 'esp32',
        configSchema: {
          type: 'object',
          properties: { interval: { type: 'integer', minimum: 1 } },
          required: ['interval'],
        },
      });
      await registry.addDevice(device('esp-1', { type: 'esp32', config: { interval: 30 } }));
      const err = await rejectsWith(
        registry.updateDevice('esp-1', { config: { interval: 'soon' } }),
        'invalid',
        /^config\/interval$/,
      );
      assert.match(err.message, /must be integer/);
      assert.deepEqual((await registry.getDevice('esp-1'))!.config, { interval: 30 }, 'unchanged');
      // A schema that an existing device would fail is refused.
      await rejectsWith(
        registry.types.save({
          name: 'esp32',
          configSchema: { type: 'object', required: ['missing'] },
        }),
        'invalid',
        /^configSchema$/,
      );
      await rejectsWith(
        registry.types.save({ name: 'esp32', configSchema: { type: 'nonsense' } }),
        'invalid',
        /^configSchema$/,
      );
    });

    it('keeps per-type orders and outdated thresholds, a device threshold winning', async () => {
      await registry.types.save({
        name: 'bbgw',
        orders: { shutter: ['up', 'down', 'stop'] },
        outdatedAfterMs: 600_000,
      });
      assert.deepEqual(await registry.types.allowedOrders('bbgw', 'shutter'), [
        'up',
        'down',
        'stop',
      ]);
      assert.equal(await registry.types.allowedOrders('bbgw', 'lighting'), null);
      await registry.addDevice(device('gw-1', { type: 'bbgw' }));
      await registry.addDevice(device('gw-2', { type: 'bbgw', outdatedAfterMs: 120_000 }));
      assert.equal((await registry.findDevice('gw-1'))!.outdatedAfterMs, 600_000);
      assert.equal((await registry.findDevice('gw-2'))!.outdatedAfterMs, 120_000);
      await rejectsWith(registry.types.remove('bbgw'), 'conflict');
      await rejectsWith(
        registry.types.save({ name: 'bbgw', orders: { shutter: 'up' } as never }),
        'invalid',
        /^orders\/shutter$/,
      );
    });

    it('updates, disables, lists and removes devices', async () => {
      for (let i = 1; i <= 5; i++)
        await registry.addDevice(
          device(`d-${i}`, { location: i % 2 ? 'u4/300' : 'outside/ambient' }),
        );
      await registry.addDevice(device('g-1', { customerId: 'globex' }));
      const updated = await registry.updateDevice('d-2', {
        location: 'abroad/carcassonne/b1/12',
        description: 'moved',
      });
      assert.equal(updated.location, 'abroad/carcassonne/b1/12');
      await registry.setEnabled('d-3', false);
      assert.equal((await registry.findDevice('d-3'))!.enabled, false);

      const page = await registry.listDevices({ customerId: 'acme', limit: 2, offset: 2 });
      assert.equal(page.total, 5);
      assert.deepEqual(
        page.items.map((d) => d.id),
        ['d-3', 'd-4'],
      );
      assert.deepEqual(
        (await registry.listDevices({ enabled: false })).items.map((d) => d.id),
        ['d-3'],
      );
      assert.deepEqual(
        (await registry.devicesAt('u4/300')).map((d) => d.id),
        ['d-1', 'd-3', 'd-5', 'g-1'],
      );
      assert.deepEqual(
        (await registry.devicesOfCustomer('globex')).map((d) => d.id),
        ['g-1'],
      );

      await registry.removeDevice('d-1');
      assert.equal(await registry.findDevice('d-1'), null);
      await rejectsWith(registry.removeDevice('d-1'), 'not_found');
      await rejectsWith(registry.customers.remove('acme'), 'conflict');
    });

    it('hands out MQTT credentials once, again after a reset, and never to a disabled device', async () => {
      await registry.addDevice(device('rpi-1', { uidType: 'ethernet', uid: 'b8:27:eb:00:00:01' }));
      const first = await registry.credentialsForUid('B8:27:EB:00:00:01');
      assert.equal(first.login, 'rpi-1');
      assert.ok(first.password && first.password.length >= 24);
      const second = await registry.credentialsForUid('b827eb000001');
      assert.deepEqual(
        { login: second.login, password: second.password },
        { login: 'rpi-1', password: undefined },
      );
      assert.ok(await registry.authenticateMqtt('rpi-1', first.password!));
      assert.equal(await registry.authenticateMqtt('rpi-1', 'wrong'), null);

      await registry.resetCredentials('rpi-1');
      assert.equal(
        await registry.authenticateMqtt('rpi-1', first.password!),
        null,
        'the old password stops working',
      );
      const third = await registry.credentialsForUid('b8:27:eb:00:00:01');
      assert.ok(third.password && third.password !== first.password);

      await registry.setEnabled('rpi-1', false);
      assert.equal(await registry.authenticateMqtt('rpi-1', third.password!), null);
      await rejectsWith(registry.credentialsForUid('b8:27:eb:00:00:01'), 'forbidden');
      await rejectsWith(registry.credentialsForUid('b8:27:eb:99:99:99'), 'not_found');
    });

    it('issues new MQTT credentials to a device (simulated devices), the old ones stop working', async () => {
      await registry.addDevice(device('sim-1'));
      const changes: DeviceChange[] = [];
      registry.watch((c) => changes.push(c));
      const first = await registry.issueCredentials('sim-1');
      assert.equal(first.login, 'sim-1');
      assert.ok(await registry.authenticateMqtt('sim-1', first.password));
      const second = await registry.issueCredentials('sim-1');
      assert.notEqual(second.password, first.password);
      assert.equal(await registry.authenticateMqtt('sim-1', first.password), null);
      assert.ok(await registry.authenticateMqtt('sim-1', second.password));
      assert.deepEqual(
        changes.map((c) => [c.deviceId, c.kind]),
        [
          ['sim-1', 'credentials'],
          ['sim-1', 'credentials'],
        ],
        'sessions on the old password are cut',
      );
      await rejectsWith(registry.issueCredentials('nobody'), 'not_found');
    });

    it("tells watchers of its own changes at once and of another process's by polling", async () => {
      const seen: DeviceChange[] = [];
      const stop = registry.watch((c) => seen.push(c));
      await registry.pollChanges();
      await registry.addDevice(device('w-1'));
      assert.deepEqual(
        seen.map((c) => [c.deviceId, c.kind]),
        [['w-1', 'added']],
      );

      // Another process (the CLI, another instance) on the same database.
      const other = new Registry(store.db, { credentialSecret: SECRET, clock: new FakeClock() });
      await other.setEnabled('w-1', false);
      await other.resetCredentials('w-1');
      await clock.advance(500);
      await registry.pollChanges();
      assert.deepEqual(
        seen.map((c) => [c.deviceId, c.kind]),
        [
          ['w-1', 'added'],
          ['w-1', 'disabled'],
          ['w-1', 'credentials'],
        ],
      );
      stop();
      await other.close();
    });

    it('coalesces signs of life into one write and never moves last_seen back', async () => {
      await registry.addDevice(device('s-1'));
      const t = clock.now();
      await registry.markSeen('s-1', t + 10);
      await registry.markSeen('s-1', t + 30, { firmware: '1.2.0', freeMemory: 20480 });
      await registry.markSeen('s-1', t + 20);
      assert.equal((await registry.findDevice('s-1'))!.lastSeen, null, 'not written yet');
      await clock.advance(1000);
      assert.equal(clock.pending, 0, 'the flush timer fired');
      await registry.flushSeen(); // waits for the write the timer started
      const d = await registry.findDevice('s-1');
      assert.equal(d!.lastSeen, t + 30);
      assert.deepEqual(d!.lastStatus, { firmware: '1.2.0', freeMemory: 20480 });
      await registry.markSeen('s-1', t + 5);
      await registry.flushSeen();
      assert.equal((await registry.findDevice('s-1'))!.lastSeen, t + 30);
    });

    it('writes the signs of life of many devices in several small transactions', async () => {
      const ids = Array.from({ length: 250 }, (_, i) => `many-${String(i).padStart(3, '0')}`);
      for (const id of ids) await registry.addDevice(device(id));
      const t = clock.now();
      ids.forEach((id, i) => void registry.markSeen(id, t + i));
      await registry.flushSeen();
      const rows = await store.db
        .selectFrom('devices')
        .select(['id', 'last_seen'])
        .where('id', 'like', 'many-%')
        .execute();
      assert.equal(rows.length, 250);
      for (const row of rows) assert.equal(Number(row.last_seen), t + ids.indexOf(row.id));
    });

    it('keeps dashboard users with bcrypt hashes, a role and a customer', async () => {
      await registry.users.add({
        username: 'alice',
        password: 'alice-password',
        customerId: 'acme',
        role: 'operator',
      });
      await registry.users.add({ username: 'root', password: 'root-password' });
      assert.deepEqual(await registry.users.verify('alice', 'alice-password'), {
        username: 'alice',
        customerId: 'acme',
        role: 'operator',
      });
      assert.equal(await registry.users.verify('alice', 'wrong-password'), null);
      assert.deepEqual((await registry.users.verify('root', 'root-password'))?.customerId, null);
      await rejectsWith(
        registry.users.add({ username: 'bob', password: 'short' }),
        'invalid',
        /^password$/,
      );
      await rejectsWith(
        registry.users.add({ username: 'bob', password: 'long enough', customerId: 'nobody' }),
        'invalid',
        /^customerId$/,
      );
      await rejectsWith(
        registry.users.add({ username: 'alice', password: 'another one' }),
        'conflict',
      );
      const row = await sql<{
        password_hash: string;
      }>`select password_hash from dashboard_users where username = 'alice'`.execute(store.db);
      assert.match(row.rows[0].password_hash, /^\$2[aby]\$10\$/);
    });
  });
}

registryContract('SQLite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-registry-'));
  return { kind: 'sqlite', file: path.join(dir, 'sensflow.db') };
});

registryContract('MariaDB', async () => {
  const server = await mariadb();
  return { kind: 'mysql', url: await server.createDatabase('registry') };
});

describe('registry secrets at rest', () => {
  it('leaves no serial number in plain text anywhere in the SQLite files', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-registry-'));
    const store = await openStore({ kind: 'sqlite', file: path.join(dir, 'sensflow.db') });
    const registry = new Registry(store.db, { credentialSecret: SECRET });
    await registry.customers.add({ id: 'acme', name: 'ACME' });
    const serials: string[] = [];
    for (let i = 0; i < 20; i++) {
      serials.push(
        (
          await registry.addDevice({
            id: `dev-${i}`,
            type: 'esp32',
            customerId: 'acme',
            location: 'u4/300',
          })
        ).serial,
      );
    }
    await registry.close();
    await store.close();
    const bytes = fs
      .readdirSync(dir)
      .map((f) => fs.readFileSync(path.join(dir, f)).toString('latin1'))
      .join('');
    for (const serial of serials)
      assert.ok(!bytes.includes(serial), `serial ${serial} found in plain text`);
  });

  it("cannot read serials with another installation's secret", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-registry-'));
    const store = await openStore({ kind: 'sqlite', file: path.join(dir, 'sensflow.db') });
    const registry = new Registry(store.db, { credentialSecret: SECRET });
    await registry.customers.add({ id: 'acme', name: 'ACME' });
    await registry.addDevice({
      id: 'dev-1',
      type: 'esp32',
      customerId: 'acme',
      location: 'u4/300',
    });
    const stranger = new Registry(store.db, { credentialSecret: 'another-installation-secret' });
    await assert.rejects(stranger.deviceSecret('dev-1'));
    await registry.close();
    await stranger.close();
    await store.close();
  });
});
