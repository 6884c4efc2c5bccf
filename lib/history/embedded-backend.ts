// History in the shared store (SQLite or MySQL/MariaDB), for servers without
// InfluxDB. It takes the same line protocol and answers the same queries as
// InfluxDB 1.x: a field's type is fixed by its first write (a conflicting
// point is rejected), a point rewritten with the same series and time
// replaces itself, and aggregation buckets are aligned on the epoch. Times
// are kept to the millisecond.
import crypto from 'node:crypto';
import { CompiledQuery, Kysely, sql } from 'kysely';
import { Database } from '../store/schema';
import { Store } from '../store/store';
import { errorMessage } from '../util/log';
import {
  HistoryBackend,
  HistoryUnavailableError,
  LineBatch,
  RejectedLine,
  Series,
  SeriesQuery,
  WriteOutcome,
} from './backend';
import { ParsedPoint, parseLine, seriesKey } from './line-protocol';
import { PointError } from './point';

interface Row {
  series_id: number;
  field: string;
  time: number;
  num: number | null;
  str: string | null;
}

const ROWS_PER_STATEMENT = 500;

export class EmbeddedBackend implements HistoryBackend {
  readonly kind = 'embedded' as const;
  readonly description: string;
  private readonly db: Kysely<Database>;
  private readonly seriesIds = new Map<string, number>();
  private readonly fieldTypes = new Map<string, string>();
  /** The REPLACE of n rows, as this store's dialect writes it, by n. */
  private readonly replaceSql = new Map<number, string>();

  /** `release` gives the store back when the backend closes. */
  constructor(
    readonly store: Store,
    private readonly release: () => Promise<void> = async () => undefined,
  ) {
    this.db = store.db;
    this.description = `embedded history in ${store.description}`;
  }

  async write(batch: LineBatch): Promise<WriteOutcome> {
    const rejected: RejectedLine[] = [];
    const rows: Row[] = [];
    try {
      for (const line of batch.lines()) {
        let point: ParsedPoint;
        let time: number;
        try {
          point = parseLine(line);
          time = milliseconds(point.timeNs);
          // Known types and series answer at once: no turn of the event
          // loop per point of a batch of thousands.
          const learning = this.checkTypes(point);
          if (learning) await learning;
        } catch (err) {
          if (!(err instanceof PointError)) throw err;
          rejected.push({ line, reason: err.message });
          continue;
        }
        const seriesId = this.seriesIds.get(seriesKey(point)) ?? (await this.seriesId(point));
        for (const [field, value] of Object.entries(point.fields)) {
          const text = value.type === 'string';
          rows.push({
            series_id: seriesId,
            field,
            time,
            num: text ? null : Number(value.value),
            str: text ? String(value.value) : null,
          });
        }
      }
      // Later rows win within a batch, as later points do in InfluxDB.
      const unique = new Map<string, Row>();
      for (const row of rows)
        unique.set(`${row.series_id}\u0000${row.field}\u0000${row.time}`, row);
      const all = [...unique.values()];
      await this.db.transaction().execute(async (trx) => {
        for (let i = 0; i < all.length; i += ROWS_PER_STATEMENT) {
          const chunk = all.slice(i, i + ROWS_PER_STATEMENT);
          const parameters: unknown[] = [];
          for (const r of chunk) parameters.push(r.series_id, r.field, r.time, r.num, r.str);
          await trx.executeQuery(CompiledQuery.raw(this.replaceOf(chunk, parameters), parameters));
        }
      });
    } catch (err) {
      throw new HistoryUnavailableError(`the store refused the write: ${errorMessage(err)}`);
    }
    return { rejected };
  }

  /** The SQL of a REPLACE of these rows, built by kysely once per row count
   *  (its compiling cost more than SQLite's writing, thousands a second). */
  private replaceOf(rows: Row[], parameters: unknown[]): string {
    let text = this.replaceSql.get(rows.length);
    if (text === undefined) {
      const compiled = this.db.replaceInto('history_points').values(rows).compile();
      // The parameters are laid out by hand: they must be kysely's.
      if (compiled.parameters.some((p, i) => p !== parameters[i]))
        throw new Error('history: unexpected parameter order of the point insert');
      text = compiled.sql;
      this.replaceSql.set(rows.length, text);
    }
    return text;
  }

  /** Rejects a point whose field types conflict with those already stored;
   *  a promise only when a type must be read or recorded first. */
  private checkTypes(point: ParsedPoint): void | Promise<void> {
    for (const [field, value] of Object.entries(point.fields)) {
      const known = this.fieldTypes.get(point.measurement + '\u0000' + field);
      if (known === undefined) return this.learnTypes(point).then(() => this.checkTypes(point));
      if (known !== value.type) {
        throw new PointError(
          `field type conflict: input field "${field}" on measurement "${point.measurement}" ` +
            `is type ${value.type}, already exists as type ${known}`,
        );
      }
    }
  }

  /** Reads (or records, for a new field) the stored types of a point's fields. */
  private async learnTypes(point: ParsedPoint): Promise<void> {
    for (const [field, value] of Object.entries(point.fields)) {
      const key = point.measurement + '\u0000' + field;
      let known = this.fieldTypes.get(key);
      if (known === undefined) {
        const find = () =>
          this.db
            .selectFrom('history_fields')
            .select('type')
            .where('measurement', '=', point.measurement)
            .where('field', '=', field)
            .executeTakeFirst();
        let row = await find();
        if (!row) {
          await this.db
            .insertInto('history_fields')
            .values({ measurement: point.measurement, field, type: value.type })
            .execute()
            .catch(() => undefined); // another writer got there first: read it back
          row = await find();
        }
        known = row?.type ?? value.type;
        this.fieldTypes.set(key, known);
      }
    }
  }

  private async seriesId(point: ParsedPoint): Promise<number> {
    const key = seriesKey(point);
    const cached = this.seriesIds.get(key);
    if (cached !== undefined) return cached;
    const hash = crypto.createHash('sha256').update(key).digest('hex');
    const find = () =>
      this.db
        .selectFrom('history_series')
        .select('id')
        .where('series_hash', '=', hash)
        .executeTakeFirst();
    let row = await find();
    if (!row) {
      await this.db
        .insertInto('history_series')
        .values({
          measurement: point.measurement,
          series_hash: hash,
          series_key: key,
          tags: JSON.stringify(point.tags),
        })
        .execute()
        .catch(() => undefined); // a concurrent insert of the same series
      row = await find();
      if (!row) throw new Error(`cannot record the series ${key}`);
    }
    this.seriesIds.set(key, Number(row.id));
    return Number(row.id);
  }

  async query(query: SeriesQuery): Promise<Series[]> {
    const series = await this.db
      .selectFrom('history_series')
      .select(['id', 'tags'])
      .where('measurement', '=', query.measurement)
      .execute();
    // Series matching the tag filters, by group (the groupBy tag values).
    const groups = new Map<string, { tags: Record<string, string>; ids: number[] }>();
    const groupOf = new Map<number, string>();
    for (const s of series) {
      const tags = JSON.parse(s.tags) as Record<string, string>;
      if (!Object.entries(query.where).every(([k, v]) => tags[k] === v)) continue;
      const groupTags: Record<string, string> = {};
      for (const t of query.groupBy) groupTags[t] = tags[t] ?? '';
      const key = JSON.stringify(groupTags);
      if (!groups.has(key)) groups.set(key, { tags: groupTags, ids: [] });
      groups.get(key)!.ids.push(Number(s.id));
      groupOf.set(Number(s.id), key);
    }
    if (groups.size === 0) return [];
    const ids = [...groupOf.keys()];
    const interval = sql.lit(query.intervalMs);
    // Floor to the bucket, also for times before 1970.
    const bucket = sql`(time - (((time % ${interval}) + ${interval}) % ${interval}))`;
    const filter = sql`series_id in (${sql.join(ids)}) and field = ${query.field}
      and time >= ${Math.floor(query.from)} and time < ${Math.ceil(query.to)} and num is not null`;
    let buckets: Array<{ key: string; bucket: number; value: number; at: number }>;
    try {
      if (query.aggregation === 'last') {
        const rows = await sql<{ series_id: number; time: number; num: number }>`
          select p.series_id, p.time, p.num from history_points p
          join (select series_id, max(time) as t from history_points where ${filter}
                group by series_id, ${bucket}) m
            on m.series_id = p.series_id and m.t = p.time
          where p.field = ${query.field}`.execute(this.db);
        buckets = rows.rows.map((r) => {
          const time = Number(r.time);
          return {
            key: groupOf.get(Number(r.series_id))!,
            bucket: time - (((time % query.intervalMs) + query.intervalMs) % query.intervalMs),
            value: Number(r.num),
            at: time,
          };
        });
        return merge(groups, buckets, (a, b) => (b.at > a.at ? b : a));
      }
      const rows = await sql<{
        series_id: number;
        bucket: number;
        c: number;
        s: number;
        mn: number;
        mx: number;
      }>`
        select series_id, ${bucket} as bucket, count(num) as c, sum(num) as s,
               min(num) as mn, max(num) as mx
        from history_points where ${filter} group by series_id, ${bucket}`.execute(this.db);
      // Partial aggregates per series, combined per group below.
      const partial = rows.rows.map((r) => ({
        key: groupOf.get(Number(r.series_id))!,
        bucket: Number(r.bucket),
        c: Number(r.c),
        s: Number(r.s),
        mn: Number(r.mn),
        mx: Number(r.mx),
      }));
      const combined = new Map<string, (typeof partial)[number]>();
      for (const p of partial) {
        const k = `${p.key}\u0000${p.bucket}`;
        const seen = combined.get(k);
        if (!seen) combined.set(k, { ...p });
        else {
          seen.c += p.c;
          seen.s += p.s;
          seen.mn = Math.min(seen.mn, p.mn);
          seen.mx = Math.max(seen.mx, p.mx);
        }
      }
      buckets = [...combined.values()].map((p) => ({
        key: p.key,
        bucket: p.bucket,
        at: p.bucket,
        value: { mean: p.s / p.c, min: p.mn, max: p.mx, count: p.c }[
          query.aggregation as 'mean' | 'min' | 'max' | 'count'
        ],
      }));
    } catch (err) {
      throw new HistoryUnavailableError(`the store refused the query: ${errorMessage(err)}`);
    }
    return merge(groups, buckets, (a) => a);
  }

  async ping(): Promise<void> {
    await this.store.ping();
  }

  async close(): Promise<void> {
    await this.release();
  }
}

type Bucket = { key: string; bucket: number; value: number; at: number };

/** One series per group, one point per bucket (`pick` chooses among duplicates), in time order. */
function merge(
  groups: Map<string, { tags: Record<string, string> }>,
  buckets: Bucket[],
  pick: (a: Bucket, b: Bucket) => Bucket,
): Series[] {
  const byGroup = new Map<string, Map<number, Bucket>>();
  for (const b of buckets) {
    let points = byGroup.get(b.key);
    if (!points) byGroup.set(b.key, (points = new Map()));
    const seen = points.get(b.bucket);
    points.set(b.bucket, seen ? pick(seen, b) : b);
  }
  const result: Series[] = [];
  for (const [key, points] of [...byGroup.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    result.push({
      tags: groups.get(key)!.tags,
      points: [...points.values()]
        .sort((a, b) => a.bucket - b.bucket)
        .map((b) => ({ time: b.bucket, value: b.value })),
    });
  }
  return result;
}

/** Epoch ms (rounded down) from decimal nanoseconds. */
function milliseconds(timeNs: string | undefined): number {
  if (timeNs === undefined) throw new PointError('the point has no time');
  const ns = BigInt(timeNs);
  let ms = ns / 1_000_000n;
  if (ns < 0n && ns % 1_000_000n !== 0n) ms -= 1n;
  return Number(ms);
}
