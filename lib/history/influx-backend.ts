// History in InfluxDB 1.x. Writes post the spool's line protocol as it is
// (one keep-alive connection, nanosecond precision), because the status and
// body of each answer decide between retrying and isolating bad points;
// queries, ping and the setup of databases, retention policies and the
// downsampling continuous query go through the `influx` package.
import http from 'node:http';
import https from 'node:https';
import { escape, InfluxDB, ISingleHostConfig } from 'influx';
import { redactUrl } from '../config/parse';
import { errorMessage } from '../util/log';
import {
  HistoryBackend,
  HistoryUnavailableError,
  LineBatch,
  Series,
  SeriesQuery,
  WriteOutcome,
} from './backend';
import { isolateBadLines, PostResult } from './isolate';

export interface InfluxSpec {
  kind: 'influxdb';
  /** Where InfluxDB answers, e.g. `http://127.0.0.1:8086`. */
  url: string;
  database: string;
  /** Retention policy written to; the database's default when unset. */
  retentionPolicy?: string;
  username?: string;
  password?: string;
}

/** What a history store may create in InfluxDB when allowed to. */
export interface InfluxSetup {
  createDatabase: boolean;
  /** Duration of the raw retention policy (e.g. `30d`); unset keeps the default one. */
  rawDuration?: string;
  /** Means over `interval` kept for `duration` by a continuous query. */
  downsample?: { interval: string; duration: string };
}

const DURATION = /^(\d+(ns|u|µ|ms|s|m|h|d|w))+$/;

export function isInfluxDuration(text: string): boolean {
  return DURATION.test(text) || text === 'INF';
}

/** Name of the retention policy holding the means of a downsampling. */
export function downsampledPolicy(interval: string): string {
  return `mean_${interval}`;
}

export class InfluxBackend implements HistoryBackend {
  readonly kind = 'influxdb' as const;
  readonly description: string;
  readonly influx: InfluxDB;
  private readonly writeUrl: URL;
  private readonly agent: http.Agent;
  private readonly auth?: string;

  constructor(private readonly spec: InfluxSpec) {
    const base = new URL(spec.url);
    this.description = `${redactUrl(base).replace(/\/$/, '')}/${spec.database}`;
    this.writeUrl = new URL('write', base.href.endsWith('/') ? base : new URL(base.href + '/'));
    this.writeUrl.searchParams.set('db', spec.database);
    this.writeUrl.searchParams.set('precision', 'n');
    if (spec.retentionPolicy) this.writeUrl.searchParams.set('rp', spec.retentionPolicy);
    this.agent =
      base.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: 4 })
        : new http.Agent({ keepAlive: true, maxSockets: 4 });
    if (spec.username) {
      this.auth =
        'Basic ' + Buffer.from(`${spec.username}:${spec.password ?? ''}`).toString('base64');
    }
    const config: ISingleHostConfig = {
      host: base.hostname,
      port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
      protocol: base.protocol === 'https:' ? 'https' : 'http',
      path: base.pathname.replace(/\/$/, ''),
      database: spec.database,
      username: spec.username,
      password: spec.password,
      pool: { maxRetries: 0, requestTimeout: 30_000 },
    };
    this.influx = new InfluxDB(config);
  }

  async write(batch: LineBatch, signal?: AbortSignal): Promise<WriteOutcome> {
    const first = await this.post(batch.body, signal);
    if (first.ok) return { rejected: [] };
    const rejected = await isolateBadLines(batch.lines(), first.reason, (lines) =>
      this.post(Buffer.from(lines.join('\n') + '\n'), signal),
    );
    return { rejected };
  }

  /** One POST /write: written, bad points (400, 413), or a thrown retryable error. */
  private post(body: Buffer, signal?: AbortSignal): Promise<PostResult> {
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': body.length,
      };
      if (this.auth) headers.authorization = this.auth;
      const send = this.writeUrl.protocol === 'https:' ? https.request : http.request;
      const req = send(
        this.writeUrl,
        { method: 'POST', headers, agent: this.agent, signal },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', (err) => reject(new HistoryUnavailableError(errorMessage(err))));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve({ ok: true });
            const text = Buffer.concat(chunks).toString('utf8');
            const reason = influxError(text) || `HTTP ${status}`;
            // 400: some points are bad (type conflict, unparsable, beyond
            // retention); 413: too large. Anything else (auth, missing
            // database, 5xx) is not the points' fault: keep them and retry.
            if (status === 400 || status === 413) return resolve({ ok: false, reason });
            reject(new HistoryUnavailableError(`InfluxDB answered ${status}: ${reason}`, status));
          });
        },
      );
      req.on('error', (err) => reject(new HistoryUnavailableError(errorMessage(err))));
      req.end(body);
    });
  }

  async query(query: SeriesQuery): Promise<Series[]> {
    const field = escape.quoted(query.field);
    const source =
      (query.retentionPolicy ? escape.quoted(query.retentionPolicy) + '.' : '') +
      escape.quoted(query.measurement);
    const conditions = [`time >= ${Math.floor(query.from)}ms`, `time < ${Math.ceil(query.to)}ms`];
    for (const [tag, value] of Object.entries(query.where)) {
      conditions.push(`${escape.quoted(tag)} = ${escape.stringLit(value)}`);
    }
    const groups = [`time(${query.intervalMs}ms)`, ...query.groupBy.map((t) => escape.quoted(t))];
    const text =
      `SELECT ${query.aggregation}(${field}) AS "value" FROM ${source}` +
      ` WHERE ${conditions.join(' AND ')} GROUP BY ${groups.join(', ')} fill(none)`;
    let raw: RawResponse;
    try {
      raw = (await this.influx.queryRaw(text, { precision: 'ms' })) as RawResponse;
    } catch (err) {
      throw new HistoryUnavailableError(`InfluxDB query failed: ${errorMessage(err)}`);
    }
    const result = raw.results?.[0];
    if (result?.error) throw new Error(`InfluxDB refused the query: ${result.error}`);
    return (result?.series ?? []).map((s) => {
      const tags: Record<string, string> = {};
      for (const tag of query.groupBy) tags[tag] = s.tags?.[tag] ?? '';
      const t = s.columns.indexOf('time');
      const v = s.columns.indexOf('value');
      return {
        tags,
        points: s.values
          .filter((row) => typeof row[v] === 'number')
          .map((row) => ({ time: row[t] as number, value: row[v] as number })),
      };
    });
  }

  async ping(): Promise<void> {
    const hosts = await this.influx.ping(2000);
    if (!hosts.some((h) => h.online)) throw new HistoryUnavailableError('InfluxDB does not answer');
  }

  /** Creates the database, retention policies and continuous query asked for. */
  async prepare(setup: InfluxSetup): Promise<void> {
    const db = this.spec.database;
    if (setup.createDatabase) {
      const names = await this.influx.getDatabaseNames();
      if (!names.includes(db)) await this.influx.createDatabase(db);
    }
    const policies = await this.influx.showRetentionPolicies(db);
    const has = (name: string) => policies.some((p) => p.name === name);
    const raw = this.spec.retentionPolicy || (setup.rawDuration ? 'raw' : undefined);
    if (raw && setup.rawDuration) {
      const options = {
        database: db,
        duration: setup.rawDuration,
        replication: 1,
        isDefault: true,
      };
      if (has(raw)) await this.influx.alterRetentionPolicy(raw, options);
      else await this.influx.createRetentionPolicy(raw, options);
    }
    if (setup.downsample) {
      const { interval, duration } = setup.downsample;
      const rp = downsampledPolicy(interval);
      const options = { database: db, duration, replication: 1, isDefault: false };
      if (has(rp)) await this.influx.alterRetentionPolicy(rp, options);
      else await this.influx.createRetentionPolicy(rp, options);
      const name = `cq_mean_${interval}`;
      const from = `${escape.quoted(db)}.${raw ? escape.quoted(raw) : '""'}./.*/`;
      const select =
        `SELECT mean(*) INTO ${escape.quoted(db)}.${escape.quoted(rp)}.:MEASUREMENT` +
        ` FROM ${from} GROUP BY time(${interval}), *`;
      const existing = await this.influx.showContinousQueries(db);
      if (existing.some((q: { name: string }) => q.name === name))
        await this.influx.dropContinuousQuery(name, db);
      await this.influx.createContinuousQuery(name, select, db);
    }
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

interface RawResponse {
  results?: Array<{
    error?: string;
    series?: Array<{ tags?: Record<string, string>; columns: string[]; values: unknown[][] }>;
  }>;
}

/** InfluxDB's `{"error": "..."}` body, or the text itself. */
function influxError(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 500);
}
