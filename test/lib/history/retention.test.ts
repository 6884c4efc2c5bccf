// Retention of the embedded history, on SQLite and on real MariaDB: points
// older than the retention are deleted in small batches while writes go on,
// the pruner runs on its own once started and stops when released, and a
// retention of 0 keeps everything.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedBackend } from '../../../lib/history/embedded-backend';
import { HistoryPruner, retainHistory, retentionMs } from '../../../lib/history/retention';
import { openHistory } from '../../../lib/history/service';
import { openStore, Store, StoreSpec } from '../../../lib/store/store';
import { silentLogger } from '../../../lib/util/log';
import { FakeClock } from '../../support/fake-clock';
import { batchOf } from '../../support/history';
import { mariadb } from '../../support/services';

const DAY = 86_400_000;

function retentionContract(name: string, makeSpec: () => Promise<StoreSpec>) {
  describe(`history retention on ${name}`, function () {
    this.timeout(60_000);
    let clock: FakeClock;
    let store: Store;
    let backend: EmbeddedBackend;

    /** `count` points of two fields each (two rows), one second apart from `from`. */
    function lines(measurement: string, from: number, count: number): string[] {
      return Array.from(
        { length: count },
        (_, i) => `${measurement},src=test value=${i},other=${-i} ${from + i * 1000}000000`,
      );
    }

    async function write(measurement: string, from: number, count: number): Promise<void> {
      const outcome = await backend.write(batchOf(lines(measurement, from, count)));
      assert.deepEqual(outcome.rejected, []);
    }

    async function rows(measurement?: string): Promise<number> {
      let query = store.db
        .selectFrom('history_points')
        .innerJoin('history_series', 'history_series.id', 'history_points.series_id')
        .select((eb) => eb.fn.countAll<number>().as('n'));
      if (measurement) query = query.where('history_series.measurement', '=', measurement);
      return Number((await query.executeTakeFirstOrThrow()).n);
    }

    beforeEach(async () => {
      clock = new FakeClock();
      store = await openStore(await makeSpec());
      backend = new EmbeddedBackend(store);
    });
    afterEach(async () => {
      await store.close();
    });

    it('deletes the points older than the retention, batch by batch, and keeps the others', async () => {
      const now = clock.now();
      await write('old', now - 40 * DAY, 500); // 1,000 rows
      await write('edge', now - 30 * DAY - 250_000, 500); // half of them past the cutoff
      await write('recent', now - DAY, 100);
      const pruner = new HistoryPruner(store.db, {
        retentionMs: 30 * DAY,
        clock,
        logger: silentLogger,
        batchRows: 37,
        pauseMs: 0,
      });
      assert.equal(await pruner.prune(), 1000 + 2 * 250);
      assert.equal(await rows('old'), 0);
      assert.equal(await rows('edge'), 2 * 250);
      assert.equal(await rows('recent'), 200);
      const left = await store.db
        .selectFrom('history_points')
        .select((eb) => eb.fn.min('time').as('t'))
        .executeTakeFirstOrThrow();
      assert.ok(Number(left.t) >= now - 30 * DAY, 'nothing older than the cutoff is left');
      assert.equal(await pruner.prune(), 0, 'a second pass finds nothing');
    });

    it('lets writes through while it deletes a large backlog', async () => {
      const now = clock.now();
      await write('old', now - 100 * DAY, 3000); // 6,000 rows, 300 batches of 20
      const pruner = new HistoryPruner(store.db, {
        retentionMs: 30 * DAY,
        clock,
        logger: silentLogger,
        batchRows: 20,
        pauseMs: 0,
      });
      let pruned = false;
      const pass = pruner.prune().then((n) => {
        pruned = true;
        return n;
      });
      await write('live', now, 50);
      assert.equal(pruned, false, 'the write did not wait for the whole pass');
      assert.equal(await pass, 6000);
      assert.equal(await rows('live'), 100);
    });

    it('runs on its own once held, every interval, and stops when released', async () => {
      const release = retainHistory(store, {
        retentionMs: retentionMs(30),
        clock,
        logger: silentLogger,
        pauseMs: 0,
        firstPassMs: 60_000,
        intervalMs: 3600_000,
      });
      // A second holder shares the same pruner.
      const second = retainHistory(store, {
        retentionMs: retentionMs(30),
        clock,
        logger: silentLogger,
      });
      await write('old', clock.now() - 31 * DAY, 10);
      await write('young', clock.now() - 29 * DAY - 1800_000, 10);
      await clock.advance(59_000);
      assert.equal(await rows('old'), 20, 'not before the first pass');
      await clock.advance(1000);
      await waitForRows('old', 0);
      assert.equal(await rows('young'), 20);
      // The next pass comes an interval after this one ends.
      await waitForRows('young', 0, 600_000);
      await second();
      await release();
      await write('old', clock.now() - 31 * DAY, 10);
      await clock.advance(2 * DAY);
      assert.equal(await rows('old'), 20, 'released: nothing deleted any more');
    });

    it('keeps everything with a retention of 0', async () => {
      const release = retainHistory(store, { retentionMs: 0, clock, logger: silentLogger });
      await write('ancient', Date.UTC(2001, 0, 1), 10);
      await clock.advance(2 * DAY);
      assert.equal(await rows('ancient'), 20);
      await release();
    });

    /** Passes run against a real store: wait for them (moving the clock by
     *  `stepMs` meanwhile) rather than guess how long they take. */
    async function waitForRows(measurement: string, count: number, stepMs = 0): Promise<void> {
      const deadline = Date.now() + 10_000;
      while ((await rows(measurement)) !== count) {
        if (Date.now() > deadline) {
          throw new Error(`${measurement} still has ${await rows(measurement)} rows`);
        }
        await clock.advance(stepMs);
      }
    }
  });
}

retentionContract('SQLite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-retention-'));
  return { kind: 'sqlite', file: path.join(dir, 'sensflow.db') };
});

retentionContract('MariaDB', async () => {
  const server = await mariadb();
  return { kind: 'mysql', url: await server.createDatabase('retention') };
});

describe('history retention through openHistory', () => {
  it('prunes the embedded history it opens, with the retention it is given', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-retention-'));
    const clock = new FakeClock();
    const history = await openHistory({
      spec: { kind: 'embedded', store: { kind: 'sqlite', file: path.join(dir, 'sensflow.db') } },
      spoolDir: path.join(dir, 'spool'),
      spoolMaxBytes: 1 << 20,
      retentionMs: retentionMs(7),
      name: 'retention-test',
      clock,
      logger: silentLogger,
    });
    try {
      const at = (days: number) => `m value=1 ${clock.now() - days * DAY}000000`;
      await history.backend.write(batchOf([at(8), at(6)]));
      const count = async () =>
        (
          await history.backend.query({
            measurement: 'm',
            field: 'value',
            where: {},
            groupBy: [],
            from: clock.now() - 30 * DAY,
            to: clock.now(),
            aggregation: 'count',
            intervalMs: 30 * DAY,
          })
        )[0]?.points.reduce((sum, p) => sum + p.value, 0) ?? 0;
      assert.equal(await count(), 2);
      await clock.advance(60_000);
      const deadline = Date.now() + 10_000;
      while ((await count()) !== 1) {
        assert.ok(Date.now() < deadline, 'the point of 8 days ago was not deleted');
        await clock.advance(0);
      }
    } finally {
      await history.close();
    }
  });
});
