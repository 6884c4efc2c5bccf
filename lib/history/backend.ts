// What history is kept in: InfluxDB 1.x or the embedded store, behind one
// interface, so flows work unchanged when a user moves from one to the other.

/** A batch of line protocol lines with nanosecond times, as the spool holds it. */
export interface LineBatch {
  /** The lines, newline-terminated; `#` comment lines may be among them. */
  body: Buffer;
  /** Number of points (non-comment lines). */
  count: number;
  /** The point lines, comments left out. */
  lines(): string[];
}

export interface RejectedLine {
  line: string;
  reason: string;
}

export interface WriteOutcome {
  /** Points the backend refused for what they are (type conflict, bad
   *  point); every other point of the batch was written. */
  rejected: RejectedLine[];
}

/** The backend cannot take writes now (down, slow, 5xx): retry the batch later. */
export class HistoryUnavailableError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HistoryUnavailableError';
  }
}

export type Aggregation = 'mean' | 'min' | 'max' | 'last' | 'count';
export const AGGREGATIONS: readonly Aggregation[] = ['mean', 'min', 'max', 'last', 'count'];

/** A query as the backend runs it: the interval already chosen. */
export interface SeriesQuery {
  measurement: string;
  field: string;
  /** Equality filters on tags. */
  where: Record<string, string>;
  /** Tags whose values split the result into series. */
  groupBy: string[];
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  aggregation: Aggregation;
  /** Bucket width in ms; buckets are aligned on the epoch, as InfluxDB's. */
  intervalMs: number;
  /** A retention policy to read from (InfluxDB only); the default one when unset. */
  retentionPolicy?: string;
}

export interface SeriesPoint {
  /** Start of the bucket, epoch ms. */
  time: number;
  value: number;
}

export interface Series {
  /** Values of the groupBy tags. */
  tags: Record<string, string>;
  points: SeriesPoint[];
}

export interface HistoryBackend {
  /** Where the history is, safe to log. */
  readonly description: string;
  readonly kind: 'influxdb' | 'embedded';
  /** Writes a batch; throws HistoryUnavailableError when it should be retried. */
  write(batch: LineBatch, signal?: AbortSignal): Promise<WriteOutcome>;
  /** Runs an aggregated query: one series per combination of groupBy tag
   *  values, buckets without points left out. */
  query(query: SeriesQuery): Promise<Series[]>;
  /** Resolves when the backend answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
