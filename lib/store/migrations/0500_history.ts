// The embedded history: series, field types and points (lib/history/schema.ts).
import { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('history_series')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('measurement', 'varchar(255)', (c) => c.notNull())
    .addColumn('series_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('series_key', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('history_series_measurement')
    .on('history_series')
    .column('measurement')
    .execute();
  await db.schema
    .createTable('history_fields')
    .addColumn('measurement', 'varchar(255)', (c) => c.notNull())
    .addColumn('field', 'varchar(255)', (c) => c.notNull())
    .addColumn('type', 'varchar(16)', (c) => c.notNull())
    .addPrimaryKeyConstraint('history_fields_pk', ['measurement', 'field'])
    .execute();
  await db.schema
    .createTable('history_points')
    .addColumn('series_id', 'integer', (c) => c.notNull())
    .addColumn('field', 'varchar(255)', (c) => c.notNull())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('num', 'double precision')
    .addColumn('str', 'text')
    .addPrimaryKeyConstraint('history_points_pk', ['series_id', 'field', 'time'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('history_points').execute();
  await db.schema.dropTable('history_fields').execute();
  await db.schema.dropTable('history_series').execute();
}
