// Rule-raised alarms, their transitions, and rule state (lib/alarms/schema.ts).
import { Kysely } from 'kysely';

// A migration describes the schema as it was then, not today's types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('rule_alarms')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('rule_id', 'varchar(160)', (c) => c.notNull())
    .addColumn('subject', 'varchar(255)', (c) => c.notNull())
    .addColumn('alarm', 'varchar(255)', (c) => c.notNull())
    .addColumn('severity', 'varchar(16)', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('open', 'integer', (c) => c.notNull())
    .addColumn('device_id', 'varchar(64)')
    .addColumn('location', 'varchar(255)')
    .addColumn('kind', 'varchar(64)')
    .addColumn('customer_id', 'varchar(64)')
    .addColumn('value', 'double precision')
    .addColumn('raised_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('cleared_at', 'bigint')
    .addColumn('acked_at', 'bigint')
    .addColumn('acked_by', 'varchar(64)')
    .addColumn('ack_comment', 'varchar(1024)')
    .addColumn('shelved_until', 'bigint')
    .addColumn('shelved_by', 'varchar(64)')
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('rule_alarms_key')
    .on('rule_alarms')
    .columns(['rule_id', 'subject', 'open'])
    .execute();
  await db.schema
    .createIndex('rule_alarms_open')
    .on('rule_alarms')
    .columns(['open', 'severity'])
    .execute();
  await db.schema
    .createIndex('rule_alarms_customer')
    .on('rule_alarms')
    .column('customer_id')
    .execute();
  await db.schema.createIndex('rule_alarms_device').on('rule_alarms').column('device_id').execute();

  await db.schema
    .createTable('rule_alarm_transitions')
    .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('alarm_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('event', 'varchar(16)', (c) => c.notNull())
    .addColumn('from_state', 'varchar(16)')
    .addColumn('to_state', 'varchar(16)', (c) => c.notNull())
    .addColumn('severity', 'varchar(16)', (c) => c.notNull())
    .addColumn('cause', 'varchar(16)', (c) => c.notNull())
    .addColumn('actor', 'varchar(64)')
    .addColumn('comment', 'varchar(1024)')
    .addColumn('value', 'double precision')
    .execute();
  await db.schema
    .createIndex('rule_alarm_transitions_alarm')
    .on('rule_alarm_transitions')
    .columns(['alarm_id', 'version'])
    .execute();

  await db.schema
    .createTable('rule_state')
    .addColumn('rule_id', 'varchar(160)', (c) => c.notNull())
    .addColumn('subject', 'varchar(255)', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('rule_state_pk', ['rule_id', 'subject'])
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['rule_state', 'rule_alarm_transitions', 'rule_alarms']) {
    await db.schema.dropTable(table).execute();
  }
}
