// The embedded store: one SQLite file (libsql's synchronous binding, which
// ships prebuilt binaries), in WAL mode so the CLI can work on it while the
// server runs.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'libsql';
import { Kysely, SqliteDatabase, SqliteDialect } from 'kysely';
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
    dialect: new SqliteDialect({ database: database as unknown as SqliteDatabase }),
  });
}
