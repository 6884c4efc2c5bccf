// The store on a MySQL or MariaDB server, through a mysql2 connection pool.
import { Kysely, MysqlDialect } from 'kysely';
import { createPool } from 'mysql2';
import { Database as Schema } from './schema';

export function createMysqlKysely(url: string): Kysely<Schema> {
  const parsed = new URL(url);
  const pool = createPool({
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: parsed.pathname.replace(/^\//, ''),
    connectionLimit: 10,
    connectTimeout: 5000,
    // Times are stored as epoch milliseconds; keep values as JS numbers.
    supportBigNumbers: true,
    bigNumberStrings: false,
    charset: 'utf8mb4',
  });
  // A dropped idle connection is replaced on the next query; never crash on it.
  pool.on('connection', (conn) => conn.on('error', () => undefined));
  return new Kysely<Schema>({ dialect: new MysqlDialect({ pool }) });
}
