// A history store at work: its backend (InfluxDB or the embedded store, set
// up as asked), its spool and its writer, opened and closed together. The
// history-store config node holds one; the benchmark and tests use it too.
import path from 'node:path';
import { acquireStore } from '../store/shared';
import { backoffDelay } from '../util/backoff';
import { Clock, TimerHandle } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import { HistoryBackend } from './backend';
import { EmbeddedBackend } from './embedded-backend';
import { LearnedTypes } from './field-types';
import { InfluxBackend, InfluxSetup } from './influx-backend';
import { historyMetrics } from './metrics';
import { HistorySpec } from './spec';
import { retainHistory } from './retention';
import { Spool } from './spool';
import { HistoryWriter, RefusedPoint } from './writer';

export interface OpenHistoryOptions {
  spec: HistorySpec;
  /** InfluxDB only: what to create (database, retention policies, continuous query). */
  setup?: InfluxSetup;
  /** This store's own spool folder. */
  spoolDir: string;
  spoolMaxBytes: number;
  /** Embedded history only: how long points are kept (0 or unset: forever). */
  retentionMs?: number;
  /** Metrics label. */
  name: string;
  clock: Clock;
  logger: Logger;
  batchSize?: number;
  flushIntervalMs?: number;
  onRejected?: (rejected: RefusedPoint[]) => void;
  onChange?: () => void;
}

export interface History {
  readonly backend: HistoryBackend;
  readonly writer: HistoryWriter;
  /** Field types seen by every writer of this store. */
  readonly learnedTypes: LearnedTypes;
  /** Resolves once the setup asked for is done (or at once when none). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export function openBackend(spec: HistorySpec): Promise<HistoryBackend> {
  if (spec.kind === 'influxdb') return Promise.resolve(new InfluxBackend(spec));
  return acquireStore(spec.store).then(
    (handle) => new EmbeddedBackend(handle.store, handle.release),
  );
}

export async function openHistory(options: OpenHistoryOptions): Promise<History> {
  const backend = await openBackend(options.spec);
  let spool: Spool;
  try {
    spool = await Spool.open({
      dir: path.resolve(options.spoolDir),
      maxBytes: options.spoolMaxBytes,
      clock: options.clock,
    });
  } catch (err) {
    await backend.close();
    throw err;
  }
  if (spool.pending > 0) {
    options.logger.info(`history: ${spool.pending} points left in ${spool.dir} are sent first`);
  }
  const dropped = (points: number) => {
    historyMetrics.dropped.inc({ store: options.name }, points);
    options.logger.warn(
      `history: the spool ${spool.dir} is full; dropped the ${points} oldest unsent points`,
    );
  };
  if (spool.dropped > 0) dropped(spool.dropped);
  spool.onDrop = dropped;
  spool.onLimitError = (err) =>
    options.logger.warn(
      `history: cannot drop old points from the spool ${spool.dir} (${errorMessage(err)}); tried again after the next write`,
    );
  const writer = new HistoryWriter({
    backend,
    spool,
    clock: options.clock,
    logger: options.logger,
    name: options.name,
    batchSize: options.batchSize,
    flushIntervalMs: options.flushIntervalMs,
    onRejected: options.onRejected,
    onChange: options.onChange,
  });

  const release =
    backend instanceof EmbeddedBackend
      ? retainHistory(backend.store, {
          retentionMs: options.retentionMs ?? 0,
          clock: options.clock,
          logger: options.logger,
        })
      : async () => undefined;

  // The setup is retried in the background: InfluxDB may be down at start,
  // and points are spooled meanwhile.
  let stopped = false;
  let timer: TimerHandle | undefined;
  const ready = new Promise<void>((resolve) => {
    const setup = options.setup;
    if (!(backend instanceof InfluxBackend) || !setup) return resolve();
    let attempt = 0;
    const tryOnce = () => {
      if (stopped) return resolve();
      backend.prepare(setup).then(resolve, (err: unknown) => {
        if (attempt === 0) {
          options.logger.warn(
            `history: cannot set up ${backend.description}: ${errorMessage(err)}`,
          );
        }
        timer = options.clock.setTimeout(
          tryOnce,
          backoffDelay(attempt++, { initialMs: 1000, maxMs: 30_000 }),
        );
      });
    };
    tryOnce();
  });

  return {
    backend,
    writer,
    learnedTypes: new Map(),
    ready,
    async close() {
      stopped = true;
      options.clock.clearTimeout(timer);
      await writer.close();
      await release();
      await backend.close();
    },
  };
}
