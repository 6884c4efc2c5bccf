// Scale-out (lib/cluster/schema.ts): instance leases, EOT presence, and a
// unique key on open rule alarms, so two instances can never both hold an open
// alarm of one rule and subject (the second insert fails in the database).
import { createHash } from 'node:crypto';
import { Kysely } from 'kysely';

/** The same key lib/alarms/book-store.ts writes: short enough for a MySQL unique index. */
function openKey(ruleId: string, subject: string): string {
  return createHash('sha256').update(`${ruleId}\u0000${subject}`).digest('hex');
}

// A migration describes the schema as it was then, not today's types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sensflow_instances')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('token', 'varchar(64)', (c) => c.notNull())
    .addColumn('beats', 'bigint', (c) => c.notNull())
    .addColumn('ttl_ms', 'integer', (c) => c.notNull())
    .addColumn('host', 'varchar(255)', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('eot_presence')
    .addColumn('device_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('server_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('instance_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('instance_token', 'varchar(64)', (c) => c.notNull())
    .addColumn('session', 'varchar(64)', (c) => c.notNull())
    .addColumn('customer_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('since', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('eot_presence_instance')
    .on('eot_presence')
    .columns(['instance_id', 'instance_token'])
    .execute();

  await db.schema.alterTable('rule_alarms').addColumn('open_key', 'varchar(64)').execute();
  // Open alarms get their key; should a key be open twice (a race before
  // this migration), the newest keeps it and the others stay keyless.
  const open = await db
    .selectFrom('rule_alarms')
    .select(['id', 'rule_id', 'subject'])
    .where('open', '=', 1)
    .orderBy('raised_at', 'desc')
    .execute();
  const taken = new Set<string>();
  for (const row of open as Array<{ id: string; rule_id: string; subject: string }>) {
    const key = openKey(row.rule_id, row.subject);
    if (taken.has(key)) continue;
    taken.add(key);
    await db.updateTable('rule_alarms').set({ open_key: key }).where('id', '=', row.id).execute();
  }
  await db.schema
    .createIndex('rule_alarms_open_key')
    .on('rule_alarms')
    .column('open_key')
    .unique()
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('rule_alarms_open_key').on('rule_alarms').execute();
  await db.schema.alterTable('rule_alarms').dropColumn('open_key').execute();
  await db.schema.dropTable('eot_presence').execute();
  await db.schema.dropTable('sensflow_instances').execute();
}
