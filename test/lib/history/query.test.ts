// One set of query tests for every backend (InfluxDB 1.x, the embedded store
// on SQLite and on MariaDB): the same data answers the same aggregated
// queries, the automatic interval keeps each series within maxPoints over a
// day and a year, and the results match a plain computation of the buckets.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Aggregation, HistoryBackend, SeriesQuery } from '../../../lib/history/backend';
import { EmbeddedBackend } from '../../../lib/history/embedded-backend';
import { InfluxBackend } from '../../../lib/history/influx-backend';
import { bucketCount } from '../../../lib/history/interval';
import { chartPoints, planQuery } from '../../../lib/history/query';
import { openStore } from '../../../lib/store/store';
import { batchOf, databaseName } from '../../support/history';
import { influxdb, mariadb } from '../../support/services';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2025, 0, 1);
const END = T0 + 365 * DAY;
const BUSY_DAY = T0 + 200 * DAY;

interface Sample {
  device: string;
  time: number;
  value: number;
}

/** Hourly readings of two devices for a year, and minute readings on one day. */
function dataset(): Sample[] {
  const samples: Sample[] = [];
  for (let i = 0; i < 365 * 24; i++) {
    samples.push({ device: 'a', time: T0 + i * HOUR, value: (i % 100) + 0.5 });
    samples.push({ device: 'b', time: T0 + i * HOUR + 1000, value: (i % 37) * 2 });
  }
  for (let m = 1; m < 24 * 60; m++) {
    if (m % 60 === 0) continue; // the hourly ones are there already
    samples.push({ device: 'a', time: BUSY_DAY + m * 60_000, value: Math.sin(m) * 10 });
    samples.push({ device: 'b', time: BUSY_DAY + m * 60_000 + 7, value: m });
  }
  return samples;
}

/** What a query must answer, computed directly from the samples. */
function expected(samples: Sample[], q: SeriesQuery): Map<string, Array<[number, number]>> {
  const groups = new Map<string, Map<number, Sample[]>>();
  for (const s of samples) {
    if (s.time < q.from || s.time >= q.to) continue;
    if (q.where.device && s.device !== q.where.device) continue;
    const key = q.groupBy.includes('device') ? s.device : '';
    const bucket = Math.floor(s.time / q.intervalMs) * q.intervalMs;
    if (!groups.has(key)) groups.set(key, new Map());
    const buckets = groups.get(key)!;
    if (!buckets.has(bucket)) buckets.set(bucket, []);
    buckets.get(bucket)!.push(s);
  }
  const result = new Map<string, Array<[number, number]>>();
  for (const [key, buckets] of groups) {
    const points = [...buckets.entries()]
      .sort(([a], [b]) => a - b)
      .map(([bucket, list]): [number, number] => {
        const values = list.map((s) => s.value);
        const value = {
          mean: values.reduce((a, b) => a + b, 0) / values.length,
          min: Math.min(...values),
          max: Math.max(...values),
          count: values.length,
          last: list.reduce((a, b) => (b.time > a.time ? b : a)).value,
        }[q.aggregation];
        return [bucket, value];
      });
    result.set(key, points);
  }
  return result;
}

function queryContract(name: string, makeBackend: () => Promise<HistoryBackend>) {
  describe(`history queries on ${name}`, function () {
    this.timeout(120_000);
    let backend: HistoryBackend;
    const samples = dataset();

    before(async () => {
      backend = await makeBackend();
      const lines = samples.map(
        (s) => `climate,device=${s.device},room=r1 value=${s.value} ${s.time}000000`,
      );
      for (let i = 0; i < lines.length; i += 5000) {
        const outcome = await backend.write(batchOf(lines.slice(i, i + 5000)));
        assert.deepEqual(outcome.rejected, []);
      }
    });
    after(async () => {
      await backend?.close();
    });

    async function check(request: Parameters<typeof planQuery>[0], maxPoints: number) {
      const q = planQuery({ measurement: 'climate', ...request, maxPoints }, END);
      const series = await backend.query(q);
      const want = expected(samples, q);
      assert.equal(series.length, want.size, 'series');
      for (const s of series) {
        const key = q.groupBy.includes('device') ? s.tags.device : '';
        const points = want.get(key)!;
        assert.ok(s.points.length <= maxPoints, `${s.points.length} points > ${maxPoints}`);
        assert.equal(s.points.length, points.length, `buckets of ${key}`);
        s.points.forEach((p, i) => {
          assert.equal(p.time, points[i][0], `bucket time ${i}`);
          assert.ok(
            Math.abs(p.value - points[i][1]) < 1e-9,
            `${q.aggregation} ${i}: ${p.value} vs ${points[i][1]}`,
          );
        });
      }
      return { q, series };
    }

    for (const aggregation of ['mean', 'min', 'max', 'last', 'count'] as Aggregation[]) {
      it(`${aggregation} over a year stays within 1000 points per series`, async () => {
        const { q } = await check({ from: T0, to: END, aggregation, groupBy: 'device' }, 1000);
        assert.equal(q.intervalMs, 12 * HOUR);
        assert.ok(bucketCount(q.from, q.to, q.intervalMs) <= 1000);
      });
    }

    it('mean over a busy day, from an unaligned start, stays within 1000 points', async () => {
      const { q, series } = await check(
        {
          from: BUSY_DAY + 12_345,
          to: BUSY_DAY + DAY + 12_345,
          aggregation: 'mean',
          groupBy: ['device'],
        },
        1000,
      );
      assert.equal(q.intervalMs, 2 * 60_000);
      assert.ok(series[0].points.length > 500, 'the day is well covered');
    });

    it('filters on tags and merges series that are not grouped', async () => {
      await check(
        { from: BUSY_DAY, to: BUSY_DAY + DAY, aggregation: 'max', tags: { device: 'b' } },
        1000,
      );
      await check({ from: BUSY_DAY, to: BUSY_DAY + DAY, aggregation: 'count' }, 100);
    });

    it('keeps to a small maxPoints, and to a wider interval asked for', async () => {
      await check({ from: T0, to: END, aggregation: 'mean', groupBy: 'device' }, 50);
      const { q } = await check(
        { from: BUSY_DAY, to: BUSY_DAY + DAY, aggregation: 'min', interval: '1h' },
        1000,
      );
      assert.equal(q.intervalMs, HOUR);
    });

    it('answers nothing for an unknown measurement or an empty range', async () => {
      assert.deepEqual(
        await backend.query(planQuery({ measurement: 'nothing', from: T0, to: END }, END)),
        [],
      );
      assert.deepEqual(
        await backend.query(
          planQuery({ measurement: 'climate', from: END + DAY, to: END + 2 * DAY }, END),
        ),
        [],
      );
    });

    it('shapes results for Dashboard 2.0 charts', async () => {
      const q = planQuery(
        {
          measurement: 'climate',
          from: BUSY_DAY,
          to: BUSY_DAY + 2 * HOUR,
          groupBy: 'device',
          interval: '1h',
        },
        END,
      );
      const chart = chartPoints(q, await backend.query(q));
      assert.deepEqual(
        chart.map((p) => [p.series, p.x]),
        [
          ['a', BUSY_DAY],
          ['a', BUSY_DAY + HOUR],
          ['b', BUSY_DAY],
          ['b', BUSY_DAY + HOUR],
        ],
      );
    });
  });
}

queryContract('InfluxDB', async () => {
  const backend = new InfluxBackend({
    kind: 'influxdb',
    url: (await influxdb()).url,
    database: databaseName('query'),
  });
  await backend.prepare({ createDatabase: true });
  return backend;
});

queryContract('the embedded store on SQLite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-history-'));
  const store = await openStore({ kind: 'sqlite', file: path.join(dir, 'sensflow.db') });
  return new EmbeddedBackend(store, () => store.close());
});

queryContract('the embedded store on MariaDB', async () => {
  const store = await openStore({
    kind: 'mysql',
    url: await (await mariadb()).createDatabase('history'),
  });
  return new EmbeddedBackend(store, () => store.close());
});
