// Which store a config node means, from its editor settings: the process's
// default store, an SQLite file, or a MySQL/MariaDB URL.
import path from 'node:path';
import { defaultStoreSpec } from './shared';
import { StoreSpec } from './store';

export type StoreChoice = 'default' | 'sqlite' | 'mysql';

export interface StoreConfig {
  store?: StoreChoice | string;
  file?: string;
  /** From the node's credentials: the URL holds a password. */
  url?: string;
}

export class StoreConfigError extends Error {
  constructor(
    readonly key: 'store' | 'file' | 'url',
    message: string,
  ) {
    super(message);
    this.name = 'StoreConfigError';
  }
}

export function storeSpecFrom(config: StoreConfig, userDir: string): StoreSpec {
  const choice = config.store || 'default';
  if (choice === 'default') return defaultStoreSpec(userDir);
  if (choice === 'sqlite') {
    const file = config.file?.trim();
    if (!file) throw new StoreConfigError('file', 'no SQLite file given');
    return { kind: 'sqlite', file: path.resolve(userDir, file) };
  }
  if (choice === 'mysql') {
    const url = config.url?.trim();
    if (!url) throw new StoreConfigError('url', 'no MySQL URL given');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new StoreConfigError('url', 'the MySQL URL cannot be parsed');
    }
    if (!['mysql:', 'mariadb:'].includes(parsed.protocol) || !/^\/\w+/.test(parsed.pathname)) {
      throw new StoreConfigError('url', 'expected mysql://user:password@host:port/database');
    }
    return { kind: 'mysql', url };
  }
  throw new StoreConfigError('store', `unknown store "${choice}"`);
}
