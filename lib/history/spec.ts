// Which history a history-store config node means: the process default (the
// launcher's InfluxDB when SENSFLOW_INFLUX_URL is set, else the embedded
// store), an InfluxDB of its own, or the embedded store. Also where spools
// live and how large they may grow, set by the launcher from its settings.
import path from 'node:path';
import { defaultStoreSpec } from '../store/shared';
import { StoreSpec } from '../store/store';
import { InfluxSpec } from './influx-backend';

export type HistorySpec = InfluxSpec | { kind: 'embedded'; store: StoreSpec };

export interface SpoolDefaults {
  /** Folder holding one spool folder per history store. */
  dir?: string;
  maxBytes: number;
}

export const DEFAULT_SPOOL_MAX_BYTES = 512 * 1024 * 1024;

let defaultSpec: HistorySpec | undefined;
let spoolDefaults: SpoolDefaults = { maxBytes: DEFAULT_SPOOL_MAX_BYTES };

/** Set by the launcher: the history that "default" means in this process. */
export function setDefaultHistorySpec(spec: HistorySpec | undefined): void {
  defaultSpec = spec;
}

/** The launcher's default, or the embedded history in the default store
 *  when Sensflow's nodes run inside a stock Node-RED. */
export function defaultHistorySpec(userDir: string): HistorySpec {
  return defaultSpec ?? { kind: 'embedded', store: defaultStoreSpec(userDir) };
}

export function setSpoolDefaults(defaults: Partial<SpoolDefaults>): void {
  spoolDefaults = { ...spoolDefaults, ...defaults };
}

export function spoolDefaultsFor(userDir: string): Required<SpoolDefaults> {
  return {
    dir: spoolDefaults.dir ?? path.join(userDir, 'history-spool'),
    maxBytes: spoolDefaults.maxBytes,
  };
}

/** An InfluxDB spec from a URL whose path names the database, with an optional login. */
export function influxSpecFromUrl(url: URL | string): InfluxSpec {
  const parsed = new URL(url.toString());
  const database = decodeURIComponent(parsed.pathname.replace(/^\/+|\/+$/g, ''));
  const spec: InfluxSpec = {
    kind: 'influxdb',
    url: `${parsed.protocol}//${parsed.host}`,
    database,
  };
  if (parsed.username) {
    spec.username = decodeURIComponent(parsed.username);
    spec.password = decodeURIComponent(parsed.password);
  }
  return spec;
}

export class HistoryConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = 'HistoryConfigError';
  }
}

export interface HistoryStoreConfig {
  backend?: string;
  url?: string;
  database?: string;
  retentionPolicy?: string;
  username?: string;
  password?: string;
}

export function historySpecFrom(config: HistoryStoreConfig, userDir: string): HistorySpec {
  const backend = config.backend || 'default';
  if (backend === 'default') return defaultHistorySpec(userDir);
  if (backend === 'embedded') return { kind: 'embedded', store: defaultStoreSpec(userDir) };
  if (backend !== 'influxdb')
    throw new HistoryConfigError('backend', `unknown backend "${backend}"`);
  const raw = config.url?.trim();
  if (!raw) throw new HistoryConfigError('url', 'no InfluxDB URL given');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new HistoryConfigError('url', `the InfluxDB URL "${raw}" cannot be parsed`);
  }
  if (!['http:', 'https:'].includes(url.protocol)) {
    throw new HistoryConfigError('url', 'the InfluxDB URL must start with http:// or https://');
  }
  const database = config.database?.trim();
  if (!database) throw new HistoryConfigError('database', 'no InfluxDB database given');
  if (/[\r\n]/.test(database)) throw new HistoryConfigError('database', 'bad database name');
  const spec: InfluxSpec = {
    kind: 'influxdb',
    url: url.href.replace(/\/$/, ''),
    database,
    retentionPolicy: config.retentionPolicy?.trim() || undefined,
  };
  if (config.username) {
    spec.username = config.username;
    spec.password = config.password ?? '';
  }
  return spec;
}
