// The command ledger (lib/commands/schema.ts).
import { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sensflow_commands')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('owner', 'varchar(128)', (c) => c.notNull())
    // 191 characters keep a unique index within MySQL's utf8mb4 key limit.
    .addColumn('idempotency_key', 'varchar(191)', (c) => c.unique())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('order_value', 'text', (c) => c.notNull())
    .addColumn('dest', 'varchar(64)', (c) => c.notNull())
    .addColumn('units', 'text', (c) => c.notNull())
    .addColumn('replies', 'text', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('ack_timeout_ms', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('first_sent_at', 'bigint')
    .addColumn('last_sent_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .addColumn('detail', 'text')
    .execute();
  await db.schema
    .createIndex('sensflow_commands_owner_state')
    .on('sensflow_commands')
    .columns(['owner', 'state'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sensflow_commands').execute();
}
