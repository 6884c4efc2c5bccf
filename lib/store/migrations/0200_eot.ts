// The EOT server's tables: device events and alarms, the offline queue, the
// seed AUTH's replay window and login throttling.
import { Kysely } from 'kysely';

// A migration describes the schema as it was then, not today's types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  for (const [table, valueColumn] of [
    ['device_events', 'data'],
    ['device_alarms', 'value'],
  ] as const) {
    await db.schema
      .createTable(table)
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('device_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('customer_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn(valueColumn, 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex(`${table}_customer_at`)
      .on(table)
      .columns(['customer_id', 'at'])
      .execute();
    await db.schema
      .createIndex(`${table}_device_at`)
      .on(table)
      .columns(['device_id', 'at'])
      .execute();
  }

  await db.schema
    .createTable('eot_queue')
    .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('customer_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('destination', 'varchar(64)', (c) => c.notNull())
    .addColumn('origin', 'varchar(64)', (c) => c.notNull())
    .addColumn('type', 'varchar(16)', (c) => c.notNull())
    .addColumn('fields', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('eot_queue_destination')
    .on('eot_queue')
    .columns(['destination', 'seq'])
    .execute();
  await db.schema.createIndex('eot_queue_expires').on('eot_queue').column('expires_at').execute();

  await db.schema
    .createTable('eot_auth_replay')
    .addColumn('device_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('random', 'varchar(64)', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('eot_auth_replay_pk', ['device_id', 'random'])
    .execute();
  await db.schema.createIndex('eot_auth_replay_at').on('eot_auth_replay').column('at').execute();

  await db.schema
    .createTable('eot_login_failures')
    .addColumn('key', 'varchar(160)', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('locked_until', 'bigint', (c) => c.notNull())
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'eot_login_failures',
    'eot_auth_replay',
    'eot_queue',
    'device_alarms',
    'device_events',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
