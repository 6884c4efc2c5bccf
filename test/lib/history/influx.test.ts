// The writer against a real InfluxDB 1.x: batching by count and time,
// escaping, field types, bad points split out of a batch, retention policies
// and the downsampling continuous query.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FieldTyping } from '../../../lib/history/field-types';
import { InfluxBackend } from '../../../lib/history/influx-backend';
import { convertMessage } from '../../../lib/history/readings';
import { History, openHistory } from '../../../lib/history/service';
import { RejectedLine } from '../../../lib/history/backend';
import { systemClock } from '../../../lib/util/clock';
import { silentLogger } from '../../../lib/util/log';
import { delay, waitFor } from '../../support/net';
import { influxdb } from '../../support/services';
import { batchOf, countPoints, databaseName, influxQl, postLines } from '../../support/history';

describe('history on InfluxDB', function () {
  this.timeout(60_000);
  let url: string;
  let db: string;
  let history: History | undefined;
  let rejected: RejectedLine[];

  async function open(options: { batchSize?: number; flushIntervalMs?: number } = {}) {
    history = await openHistory({
      spec: { kind: 'influxdb', url, database: db },
      setup: { createDatabase: true },
      spoolDir: fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-spool-')),
      spoolMaxBytes: 64 << 20,
      name: 'influx-test',
      clock: systemClock,
      logger: silentLogger,
      onRejected: (r) => rejected.push(...r),
      ...options,
    });
    await history.ready;
    return history;
  }

  async function writeRequests(): Promise<number> {
    const stats = await influxQl(url, '_internal', `SHOW STATS FOR 'httpd'`);
    const s = stats[0];
    return s.values[0][s.columns.indexOf('writeReq')] as number;
  }

  before(async () => {
    url = (await influxdb()).url;
  });
  beforeEach(() => {
    db = databaseName('history');
    rejected = [];
  });
  afterEach(async () => {
    await history?.close();
    history = undefined;
  });

  it('writes full batches at once and the rest when flushed: 12,000 points, 3 requests', async () => {
    const h = await open({ batchSize: 5000, flushIntervalMs: 60_000 });
    const t0 = Date.now() - 60_000;
    const lines = Array.from(
      { length: 12_000 },
      (_, i) => `count,src=test value=${i} ${t0 + i}000000`,
    );
    const before = await writeRequests();
    await h.writer.accept(lines);
    await waitFor(async () => assert.equal(h.writer.state().written, 10_000), 10_000);
    await delay(200);
    assert.equal(
      await countPoints(url, db, 'count'),
      10_000,
      'the last 2,000 wait for time or count',
    );
    await h.writer.flush();
    assert.equal(await countPoints(url, db, 'count'), 12_000);
    assert.equal((await writeRequests()) - before, 3);
  });

  it('writes a lone point after the flush interval', async () => {
    // An interval well beyond the check's 100 ms plus a query on a busy machine.
    const h = await open({ batchSize: 5000, flushIntervalMs: 2000 });
    await h.writer.accept([`lone value=1 ${Date.now()}000000`]);
    await delay(100);
    assert.equal(await countPoints(url, db, 'lone'), 0, 'not before the interval');
    await waitFor(async () => assert.equal(await countPoints(url, db, 'lone'), 1), 10_000);
  });

  it('stores names with spaces, commas and equals signs, and quoted text, as given', async () => {
    const h = await open({ flushIntervalMs: 50 });
    const typing = new FieldTyping({ 'air temp,in': { note: 'string' } });
    const { lines, errors } = convertMessage(
      {
        measurement: 'air temp,in',
        payload: { value: 21.5, note: 'say "hi" \\o/' },
        tags: { 'the room': 'hall 1, east=2' },
      },
      { typing, precision: 'ms', now: Date.now(), maxFutureMs: 60_000 },
    );
    assert.deepEqual(errors, []);
    await h.writer.accept(lines);
    await h.writer.flush();
    const series = await influxQl(url, db, 'SELECT * FROM "air temp,in"');
    const row = Object.fromEntries(series[0].columns.map((c, i) => [c, series[0].values[0][i]]));
    assert.equal(row['the room'], 'hall 1, east=2');
    assert.equal(row.note, 'say "hi" \\o/');
    assert.equal(row.value, 21.5);
  });

  it('gives fields the declared types, and numbers float by default', async () => {
    const h = await open({ flushIntervalMs: 50 });
    const typing = new FieldTyping({ meter: { pulses: 'integer', on: 'boolean' } });
    const { lines } = convertMessage(
      { measurement: 'meter', payload: { pulses: 42, on: true, power: 3 } },
      { typing, precision: 'ms', now: Date.now(), maxFutureMs: 60_000 },
    );
    await h.writer.accept(lines);
    await h.writer.flush();
    const keys = await influxQl(url, db, 'SHOW FIELD KEYS FROM "meter"');
    assert.deepEqual(Object.fromEntries(keys[0].values as Array<[string, string]>), {
      pulses: 'integer',
      on: 'boolean',
      power: 'float',
    });
  });

  it('splits bad points out of a refused batch and writes all the others', async () => {
    const h = await open({ batchSize: 1000, flushIntervalMs: 50 });
    // Another writer made "value" an integer; ours writes floats.
    const t0 = Date.now() - 100_000;
    assert.equal(await postLines(url, db, [`conflict,src=other value=1i ${t0 - 1}000000`]), 204);
    const lines = Array.from({ length: 1000 }, (_, i) =>
      i === 137 || i === 800
        ? `conflict,src=us value=${i}.5 ${t0 + i}000000`
        : `conflict,src=us value=${i}i ${t0 + i}000000`,
    );
    await h.writer.accept(lines);
    await h.writer.flush();
    assert.deepEqual(
      rejected.map((r) => r.line),
      [lines[137], lines[800]],
    );
    assert.match(rejected[0].reason, /field type conflict/);
    assert.equal(await countPoints(url, db, 'conflict'), 999, '998 of ours and the other one');
    assert.equal(h.writer.state().rejected, 2);
  });

  it('creates the database, the raw retention policy and a downsampling continuous query', async () => {
    const backend = new InfluxBackend({ kind: 'influxdb', url, database: db });
    try {
      const setup = {
        createDatabase: true,
        rawDuration: '30d',
        downsample: { interval: '1s', duration: '104w' },
      };
      await backend.prepare(setup);
      await backend.prepare(setup); // again: nothing changes, nothing fails
      const policies = await backend.influx.showRetentionPolicies(db);
      const raw = policies.find((p) => p.name === 'raw')!;
      assert.equal(raw.duration, '720h0m0s');
      assert.equal(raw.default, true);
      assert.equal(policies.find((p) => p.name === 'mean_1s')!.duration, '17472h0m0s');
      const cqs = await influxQl(url, db, 'SHOW CONTINUOUS QUERIES');
      const ours = cqs.find((s) => s.name === db)!;
      assert.equal(ours.values.length, 1);
      assert.match(
        String(ours.values[0][1]),
        /mean\(\*\) INTO \S+\.mean_1s\.:MEASUREMENT FROM \S+\.raw\./,
      );
      // The continuous query fills the downsampled policy. It computes only the
      // interval just ended, so the points go into the coming seconds.
      const now = Date.now() + 1000;
      const lines = Array.from(
        { length: 20 },
        (_, i) => `cq,room=a value=${i} ${now + i * 100}000000`,
      );
      assert.equal((await backend.write(batchOf(lines))).rejected.length, 0);
      await waitFor(
        async () => {
          const means = await influxQl(url, db, `SELECT count("mean_value") FROM "mean_1s"."cq"`);
          assert.ok(((means[0]?.values[0]?.[1] as number) ?? 0) > 0, 'downsampled points');
        },
        20_000,
        250,
      );
    } finally {
      await backend.close();
    }
  });
});
