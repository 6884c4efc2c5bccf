// Retention of the embedded history: an index on the time of points, so the
// oldest can be found and deleted a small batch at a time.
import { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('history_points_time').on('history_points').column('time').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('history_points_time').on('history_points').execute();
}
