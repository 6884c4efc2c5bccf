// The embedded store: one SQLite file (libsql's synchronous binding, which
// ships prebuilt binaries), in WAL mode so the CLI can work on it while the
// server runs.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'libsql';
import { Kysely, SqliteDatabase, SqliteDialect, SqliteStatement } from 'kysely';
import { Database as Schema } from './schema';

export function createSqliteKysely(file: string): Kysely<Schema> {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const database = new Database(file);
  // WAL lets readers and one writer from other processes proceed; FULL sync
  // means an acknowledged write survives a power cut, not only a crash.
  database.exec('PRAGMA journal_mode = WAL');
  database.exec('PRAGMA synchronous = FULL');
  database.exec('PRAGMA busy_timeout = 5000');
  database.exec('PRAGMA foreign_keys = ON');
  if (file !== ':memory:') fs.chmodSync(file, 0o600);
  return new Kysely<Schema>({
    dialect: new SqliteDialect({ database: withStatementCache(database) }),
  });
}

/** Statements kept at most; beyond, the least recently used is dropped. */
const STATEMENTS_KEPT = 256;

/**
 * The database as kysely sees it, preparing each SQL text once. Kysely asks
 * for a new statement on every query, and libsql would compile it again
 * each time: with readings arriving by thousands a second (device lookups,
 * history series), compiling cost more than running. A statement is used by
 * one query at a time (kysely holds the connection while a query runs), and
 * libsql resets it before each run.
 */
export function withStatementCache(database: Database.Database): SqliteDatabase {
  const kept = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      let statement = kept.get(sql);
      if (statement) {
        kept.delete(sql); // to the most recent end
      } else {
        statement = database.prepare(sql) as unknown as SqliteStatement;
        if (kept.size >= STATEMENTS_KEPT) kept.delete(kept.keys().next().value!);
      }
      kept.set(sql, statement);
      return statement;
    },
  };
}
