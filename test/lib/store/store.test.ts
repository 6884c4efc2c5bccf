// The store opens, migrates and answers on the embedded SQLite file and on a
// real MariaDB server, and applying the migrations again changes nothing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { migrations } from '../../../lib/store/migrations';
import {
  migrate,
  openStore,
  Store,
  StoreSpec,
  StoreUnavailableError,
} from '../../../lib/store/store';
import { mariadb } from '../../support/services';

const expectedTables = [
  'sensflow_meta',
  'customers',
  'device_types',
  'devices',
  'dashboard_users',
  'registry_changes',
  'device_events',
  'device_alarms',
  'eot_queue',
  'eot_auth_replay',
  'eot_login_failures',
  'rule_alarms',
  'rule_alarm_transitions',
  'rule_state',
  'history_series',
  'history_fields',
  'history_points',
  'sensflow_instances',
  'eot_presence',
];

async function tableNames(store: Store): Promise<string[]> {
  const tables = await store.db.introspection.getTables();
  return tables.map((t) => t.name).sort();
}

function storeContract(name: string, makeSpec: () => Promise<StoreSpec>) {
  describe(`store on ${name}`, function () {
    this.timeout(60_000);
    let spec: StoreSpec;
    let store: Store | undefined;

    before(async () => {
      spec = await makeSpec();
    });
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });

    it('applies every migration to an empty database', async () => {
      store = await openStore(spec);
      const tables = await tableNames(store);
      for (const t of expectedTables) assert.ok(tables.includes(t), `table ${t} in ${tables}`);
      const applied = await sql<{
        name: string;
      }>`select name from kysely_migration order by name`.execute(store.db);
      assert.deepEqual(
        applied.rows.map((r) => r.name),
        Object.keys(migrations).sort(),
      );
    });

    it('is idempotent: opening again and migrating again apply nothing', async () => {
      store = await openStore(spec);
      const before = await tableNames(store);
      assert.deepEqual(await migrate(store.db), []);
      await store.close();
      store = await openStore(spec);
      assert.deepEqual(await migrate(store.db), []);
      assert.deepEqual(await tableNames(store), before);
    });

    it('reads back what it writes, in a transaction', async () => {
      store = await openStore(spec);
      const db = store.db;
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('sensflow_meta')
          .values({ key: `k-${name}`, value: 'v' })
          .execute();
      });
      const row = await db
        .selectFrom('sensflow_meta')
        .selectAll()
        .where('key', '=', `k-${name}`)
        .executeTakeFirst();
      assert.deepEqual(row, { key: `k-${name}`, value: 'v' });
      await store.ping();
    });

    it('rolls a failed transaction back', async () => {
      store = await openStore(spec);
      const db = store.db;
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          await trx.insertInto('sensflow_meta').values({ key: 'rolled', value: 'v' }).execute();
          throw new Error('boom');
        }),
        /boom/,
      );
      const row = await db
        .selectFrom('sensflow_meta')
        .selectAll()
        .where('key', '=', 'rolled')
        .executeTakeFirst();
      assert.equal(row, undefined);
    });
  });
}

storeContract('SQLite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-store-'));
  return { kind: 'sqlite', file: path.join(dir, 'sensflow.db') };
});

storeContract('MariaDB', async () => {
  const server = await mariadb();
  return { kind: 'mysql', url: await server.createDatabase('store') };
});

describe('store errors', () => {
  it('names the unreachable server without its password', async () => {
    const url = 'mysql://sensflow:topsecret@127.0.0.1:1/sensflow';
    const err = await openStore({ kind: 'mysql', url }).then(
      () => assert.fail('opened'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StoreUnavailableError, String(err));
    assert.match(err.message, /127\.0\.0\.1:1/);
    assert.doesNotMatch(err.message, /topsecret/);
  });
});
