// Where EOT devices are logged in, on SQLite and on real MariaDB: a login
// takes the row over and says from whom, a disconnect removes only its own
// session's row, and two logins of one device at once leave one holder.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Presence, PresenceTable } from '../../../lib/eot/presence';
import { openStore, Store, StoreSpec } from '../../../lib/store/store';
import { mariadb } from '../../support/services';

const at = (instanceId: string, session: string, deviceId = 'lamp-07'): Presence => ({
  deviceId,
  serverId: 'eot-1',
  instanceId,
  instanceToken: `${instanceId}-run`,
  session,
  customerId: 'acme',
  since: 1,
});

function presenceContract(name: string, makeSpec: () => Promise<StoreSpec>) {
  describe(`EOT presence on ${name}`, function () {
    this.timeout(60_000);
    let store: Store;
    let table: PresenceTable;
    beforeEach(async () => {
      store = await openStore(await makeSpec());
      table = new PresenceTable(store.db);
    });
    afterEach(async () => store.close());

    it('records a login and hands the device over to the next one, naming the previous holder', async () => {
      assert.equal(await table.claim(at('s1', 'one')), null);
      assert.deepEqual(await table.find('lamp-07'), at('s1', 'one'));
      assert.deepEqual(await table.claim(at('s2', 'two')), at('s1', 'one'));
      assert.equal((await table.find('lamp-07'))?.instanceId, 's2');
    });

    it('forgets a device only for the session that holds it', async () => {
      await table.claim(at('s1', 'one'));
      await table.claim(at('s2', 'two'));
      await table.release('lamp-07', 'one'); // the old connection closing late
      assert.equal((await table.find('lamp-07'))?.session, 'two');
      await table.release('lamp-07', 'two');
      assert.equal(await table.find('lamp-07'), null);
    });

    it('leaves one holder when two logins of one device race', async () => {
      const results = await Promise.all([
        table.claim(at('s1', 'one')),
        table.claim(at('s2', 'two')),
        table.claim(at('s3', 'three')),
      ]);
      const holder = (await table.find('lamp-07'))!;
      const rows = await store.db.selectFrom('eot_presence').selectAll().execute();
      assert.equal(rows.length, 1);
      // Every claimant but the first was told whom it took over from.
      assert.equal(results.filter((r) => r === null).length, 1);
      assert.ok(['one', 'two', 'three'].includes(holder.session));
    });
  });
}

presenceContract('SQLite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-presence-'));
  return { kind: 'sqlite', file: path.join(dir, 'sensflow.db') };
});

presenceContract('MariaDB', async () => {
  const server = await mariadb();
  return { kind: 'mysql', url: await server.createDatabase('presence') };
});
