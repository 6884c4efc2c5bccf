// InfluxDB going away under a running writer: killed mid-stream and
// restarted (every point arrives exactly once), down while a writer is
// replaced (the next one sends the spool), and down long enough for the
// spool to reach its limit (the oldest points are dropped and counted).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { History, openHistory } from '../../../lib/history/service';
import { systemClock } from '../../../lib/util/clock';
import { silentLogger } from '../../../lib/util/log';
import { databaseName, influxQl } from '../../support/history';
import { delay, waitFor } from '../../support/net';
import { InfluxDb, startInfluxDb } from '../../support/services';

describe('history through InfluxDB outages', function () {
  this.timeout(120_000);
  let influx: InfluxDb;
  let db: string;
  let spoolDir: string;
  const opened: History[] = [];

  async function open(spoolMaxBytes = 64 << 20): Promise<History> {
    const h = await openHistory({
      spec: { kind: 'influxdb', url: influx.url, database: db },
      setup: { createDatabase: true },
      spoolDir,
      spoolMaxBytes,
      name: 'outage-test',
      clock: systemClock,
      logger: silentLogger,
      batchSize: 500,
      flushIntervalMs: 100,
    });
    opened.push(h);
    return h;
  }

  /** count(value) and count(distinct(value)) of a measurement. */
  async function counts(measurement: string): Promise<[number, number]> {
    const series = await influxQl(
      influx.url,
      db,
      `SELECT count("value"), count(distinct("value")) FROM "${measurement}"`,
    );
    const row = series[0]?.values[0] ?? [0, 0, 0];
    return [row[1] as number, row[2] as number];
  }

  function points(from: number, count: number, t0: number, measurement: string): string[] {
    return Array.from(
      { length: count },
      (_, i) => `${measurement},src=test value=${from + i} ${t0 + from + i}000000`,
    );
  }

  before(async () => {
    influx = await startInfluxDb();
  });
  beforeEach(async () => {
    await influx.process.start();
    db = databaseName('outage');
    spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-spool-'));
  });
  afterEach(async () => {
    for (const h of opened.splice(0)) await h.close();
  });
  after(async () => {
    await influx.process.stop();
  });

  it('delivers every point exactly once when InfluxDB is killed mid-stream and restarted', async () => {
    const h = await open();
    await h.ready;
    const t0 = Date.now() - 3600_000;
    const total = 6000;
    for (let i = 0; i < total; i += 20) {
      if (i === 2000) await influx.process.stop('SIGKILL');
      if (i === 4000) {
        // The outage was felt: writes failed and points waited on disk.
        await waitFor(async () => assert.ok(h.writer.state().failures > 0), 10_000);
        assert.ok(h.writer.state().pending > 0);
        await influx.process.start();
      }
      await h.writer.accept(points(i, 20, t0, 'stream'));
      await delay(2);
    }
    await waitFor(async () => assert.equal(h.writer.state().pending, 0), 60_000, 100);
    assert.ok(h.writer.state().failures === 0);
    assert.deepEqual(await counts('stream'), [total, total]);
  });

  it('sends what a previous writer left in the spool once InfluxDB is back', async () => {
    const first = await open();
    await first.ready;
    await influx.process.stop();
    const t0 = Date.now() - 3600_000;
    await first.writer.accept(points(0, 1500, t0, 'leftover'));
    await waitFor(async () => assert.ok(first.writer.state().failures > 0), 10_000);
    await first.close();
    opened.splice(opened.indexOf(first), 1);
    await influx.process.start();
    const second = await open();
    await waitFor(async () => assert.equal(second.writer.state().pending, 0), 30_000, 100);
    assert.deepEqual(await counts('leftover'), [1500, 1500]);
  });

  it('drops the oldest points beyond the spool limit, counts them, and delivers the rest', async () => {
    const h = await open(64 * 1024);
    await h.ready;
    await influx.process.stop();
    const t0 = Date.now() - 3600_000;
    const total = 5000; // about 240 KiB of lines: far over the 64 KiB limit
    for (let i = 0; i < total; i += 100) await h.writer.accept(points(i, 100, t0, 'overflow'));
    const state = h.writer.state();
    assert.ok(state.dropped > 0, 'points dropped');
    assert.ok(state.spoolBytes <= 64 * 1024 + 16 * 1024, `${state.spoolBytes} bytes`);
    await influx.process.start();
    await waitFor(async () => assert.equal(h.writer.state().pending, 0), 30_000, 100);
    const dropped = h.writer.state().dropped;
    assert.deepEqual(await counts('overflow'), [total - dropped, total - dropped]);
    const oldest = await influxQl(influx.url, db, 'SELECT min("value") FROM "overflow"');
    assert.equal(oldest[0].values[0][1], dropped, 'the oldest were the ones dropped');
  });
});
