// The shared store: one interface over the embedded SQLite file and a
// MySQL/MariaDB server, with the schema brought up to date on open.
import { Kysely, Migrator, sql } from 'kysely';
import { redactUrl } from '../config/parse';
import { errorMessage } from '../util/log';
import { migrations } from './migrations';
import { createMysqlKysely } from './mysql';
import { Database } from './schema';
import { createSqliteKysely } from './sqlite';

export type StoreSpec = { kind: 'sqlite'; file: string } | { kind: 'mysql'; url: string };

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: StoreSpec['kind'];
  /** Where the store lives, safe to log (no password). */
  readonly description: string;
  /** Resolves when the store answers a trivial query. */
  ping(): Promise<void>;
  /** Runs `fn` before the store closes (services flush what they hold). */
  onClose(fn: () => Promise<void>): void;
  close(): Promise<void>;
}

export class StoreUnavailableError extends Error {
  constructor(description: string, cause: unknown) {
    super(`cannot reach the store at ${description}: ${errorMessage(cause)}`);
    this.name = 'StoreUnavailableError';
  }
}

export function describeSpec(spec: StoreSpec): string {
  return spec.kind === 'sqlite' ? `sqlite:${spec.file}` : redactUrl(spec.url);
}

/** Opens the store and applies pending migrations. */
export async function openStore(spec: StoreSpec): Promise<Store> {
  const description = describeSpec(spec);
  const db = spec.kind === 'sqlite' ? createSqliteKysely(spec.file) : createMysqlKysely(spec.url);
  const ping = async () => {
    await sql`select 1`.execute(db);
  };
  try {
    await ping();
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw new StoreUnavailableError(description, err);
  }
  try {
    await migrate(db);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw err;
  }
  const closers: Array<() => Promise<void>> = [];
  return {
    db,
    dialect: spec.kind,
    description,
    ping,
    onClose: (fn) => closers.push(fn),
    close: async () => {
      for (const fn of closers.splice(0).reverse()) await fn().catch(() => undefined);
      await db.destroy();
    },
  };
}

/** Applies every migration not yet applied; returns the names it applied. */
export async function migrate(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    // Each domain numbers its migrations in its own range (see migrations/),
    // so a store may meet a new migration that sorts before applied ones.
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${errorMessage(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
