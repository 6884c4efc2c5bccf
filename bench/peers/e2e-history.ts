// Counting the readings the end-to-end benchmark finds in history: the `value`
// field of the sensor measurements, in the embedded store (SQLite) or in
// InfluxDB 1.x, whichever the server writes to.
import { sql } from 'kysely';
import { openStore } from '../../lib/store/store';

const MEASUREMENTS = ['temperature', 'humidity', 'co2', 'luminosity'];

export interface HistoryCounter {
  /** Readings stored so far. */
  count(): Promise<number>;
  close(): Promise<void>;
}

/** `target`: an InfluxDB database URL (`http://host:port/db`), or the embedded store's file. */
export async function countReadings(target: string | { sqlite: string }): Promise<HistoryCounter> {
  if (typeof target === 'string') return influxCounter(new URL(target));
  const store = await openStore({ kind: 'sqlite', file: target.sqlite });
  return {
    async count() {
      const { rows } = await sql<{ n: number }>`
        select count(*) as n from history_points p join history_series s on s.id = p.series_id
        where p.field = 'value' and s.measurement in (${sql.join(MEASUREMENTS)})`.execute(store.db);
      return Number(rows[0].n);
    },
    close: () => store.close(),
  };
}

function influxCounter(url: URL): HistoryCounter {
  const db = url.pathname.slice(1);
  const query = `SELECT count("value") FROM ${MEASUREMENTS.map((m) => `"${m}"`).join(',')}`;
  return {
    async count() {
      const res = await fetch(
        `${url.origin}/query?db=${encodeURIComponent(db)}&q=${encodeURIComponent(query)}`,
      );
      if (res.status !== 200) throw new Error(`InfluxDB answered ${res.status}`);
      const body = (await res.json()) as {
        results: Array<{ series?: Array<{ values: Array<[string, number]> }> }>;
      };
      let n = 0;
      for (const s of body.results[0]?.series ?? []) n += Number(s.values[0][1]);
      return n;
    },
    close: async () => undefined,
  };
}
