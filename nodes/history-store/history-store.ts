// Config node: where history is kept (the server's default, an InfluxDB 1.x,
// or the embedded store) and how it is written. It owns the backend, the
// spool and the writer shared by every history node that names it.
import path from 'node:path';
import type { NodeAPI, NodeDef } from 'node-red';
import { InfluxSetup, isInfluxDuration } from '../../lib/history/influx-backend';
import { Precision, PRECISIONS } from '../../lib/history/point';
import { History, openHistory } from '../../lib/history/service';
import { retentionMs } from '../../lib/history/retention';
import {
  embeddedRetentionDays,
  HistoryConfigError,
  historySpecFrom,
  spoolDefaultsFor,
} from '../../lib/history/spec';
import { WriterState } from '../../lib/history/writer';
import { systemClock } from '../../lib/util/clock';
import { errorMessage, Logger } from '../../lib/util/log';
import type { HistoryStoreNode } from './history-store-node';
import { userDirOf } from '../shared/user-dir';

interface HistoryStoreDef extends NodeDef {
  backend: string;
  url: string;
  database: string;
  retentionPolicy: string;
  precision: string;
  create: boolean;
  rawDuration: string;
  downsampleInterval: string;
  downsampleDuration: string;
  batchSize: string | number;
  flushInterval: string | number;
  spoolMb: string | number;
}

/** A positive whole number from a node setting, or the fallback when blank. */
function count(
  value: string | number | undefined,
  key: string,
  fallback?: number,
): number | undefined {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new HistoryConfigError(key, `${key} must be a positive whole number`);
  return n;
}

function setupFrom(def: HistoryStoreDef): InfluxSetup | undefined {
  if (!def.create) return undefined;
  for (const key of ['rawDuration', 'downsampleInterval', 'downsampleDuration'] as const) {
    if (def[key] && !isInfluxDuration(def[key])) {
      throw new HistoryConfigError(
        key,
        `"${def[key]}" is not an InfluxDB duration such as 30d or 1m`,
      );
    }
  }
  if (Boolean(def.downsampleInterval) !== Boolean(def.downsampleDuration)) {
    throw new HistoryConfigError(
      'downsampleInterval',
      'downsampling needs both an interval and a duration',
    );
  }
  return {
    createDatabase: true,
    rawDuration: def.rawDuration || undefined,
    downsample: def.downsampleInterval
      ? { interval: def.downsampleInterval, duration: def.downsampleDuration }
      : undefined,
  };
}

/** The server's own InfluxDB (SENSFLOW_INFLUX_URL, behind "Sensflow's
 *  default") gets its database created when it is missing, as a fresh
 *  InfluxDB has none; a store naming its own server creates only when told. */
function serverSetup(def: HistoryStoreDef): InfluxSetup | undefined {
  return !def.backend || def.backend === 'default' ? { createDatabase: true } : undefined;
}

export = function (RED: NodeAPI) {
  function HistoryStore(this: HistoryStoreNode & { precision: Precision }, def: HistoryStoreDef) {
    RED.nodes.createNode(this, def);
    const userDir = userDirOf(RED);
    this.precision = PRECISIONS.includes(def.precision as Precision)
      ? (def.precision as Precision)
      : 'ms';
    const logger: Logger = {
      error: (m) => this.error(m),
      warn: (m) => this.warn(m),
      info: (m) => this.log(m),
      debug: (m) => this.debug(m),
    };
    const opening: Promise<History> = (async () => {
      const spec = historySpecFrom(
        {
          backend: def.backend,
          url: def.url,
          database: def.database,
          retentionPolicy: def.retentionPolicy,
          username: this.credentials?.username,
          password: this.credentials?.password,
        },
        userDir,
      );
      const spool = spoolDefaultsFor(userDir);
      const spoolMb = count(def.spoolMb, 'spoolMb');
      return openHistory({
        spec,
        setup: spec.kind === 'influxdb' ? (setupFrom(def) ?? serverSetup(def)) : undefined,
        spoolDir: path.join(spool.dir, this.id.replace(/[^A-Za-z0-9._-]/g, '_')),
        spoolMaxBytes: spoolMb ? spoolMb * 1024 * 1024 : spool.maxBytes,
        retentionMs: retentionMs(embeddedRetentionDays()),
        name: this.id,
        clock: systemClock,
        logger,
        batchSize: count(def.batchSize, 'batchSize'),
        flushIntervalMs: count(def.flushInterval, 'flushInterval'),
        onRejected: (rejected) => {
          for (const { line, reason, source } of rejected) {
            if (source) source.refused(reason);
            else this.warn(RED._('history-store.errors.rejected', { reason, line }));
          }
        },
      });
    })();
    opening.catch((err: unknown) =>
      this.error(RED._('history-store.errors.open', { error: errorMessage(err) })),
    );
    this.history = () => opening;

    const listeners = new Set<(state: WriterState) => void>();
    this.watch = (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    };
    const ticker = setInterval(() => {
      opening.then(
        (history) => {
          history.writer.tick();
          const state = history.writer.state();
          for (const listener of listeners) listener(state);
        },
        () => undefined,
      );
    }, 1000);
    ticker.unref();

    this.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(ticker);
      listeners.clear();
      opening.then((history) => history.close()).then(done, done);
    });
  }

  RED.nodes.registerType<
    HistoryStoreNode,
    HistoryStoreDef,
    object,
    { username?: string; password?: string }
  >('history-store', HistoryStore, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });
};
