// Insert-or-update of many rows in a few statements, on SQLite (ON CONFLICT)
// and MySQL/MariaDB (ON DUPLICATE KEY UPDATE): alarm storms and rule state
// are written in chunks, not a statement or two per row.
import { Kysely, MysqlAdapter, sql } from 'kysely';

const CHUNK = 50;

/** Writes `rows` (all with the same columns) into `table`, replacing rows with the same `keys`. */
export async function upsertRows(
  // Each caller's table and row types are checked at its call site.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>,
  table: string,
  rows: Array<Record<string, unknown>>,
  keys: string[],
): Promise<void> {
  if (rows.length === 0) return;
  const updated = Object.keys(rows[0]).filter((c) => !keys.includes(c));
  const mysql = db.getExecutor().adapter instanceof MysqlAdapter;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const insert = db.insertInto(table).values(rows.slice(i, i + CHUNK));
    const query = mysql
      ? insert.onDuplicateKeyUpdate(
          Object.fromEntries(updated.map((c) => [c, sql`values(${sql.ref(c)})`])),
        )
      : insert.onConflict((oc) =>
          oc
            .columns(keys as never)
            .doUpdateSet(Object.fromEntries(updated.map((c) => [c, sql.ref(`excluded.${c}`)]))),
        );
    await query.execute();
  }
}
