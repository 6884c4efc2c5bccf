// The device registry: customers, device types (seeded with the seeds' kinds
// of device), devices, dashboard users and the change feed.
import { Kysely } from 'kysely';

const SEEDED_TYPES = ['mkr1000', 'bbgw', 'rpi3', 'esp32', 'jetson_nano', 'lorawan', 'app'];

// A migration describes the schema as it was then, not today's types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('customers')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('device_types')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('config_schema', 'text')
    .addColumn('orders', 'text')
    .addColumn('outdated_after_ms', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('devices')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('uid_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('uid', 'varchar(64)', (c) => c.unique())
    .addColumn('type', 'varchar(64)', (c) => c.notNull().references('device_types.name'))
    .addColumn('customer_id', 'varchar(64)', (c) => c.notNull().references('customers.id'))
    .addColumn('description', 'varchar(1024)', (c) => c.notNull())
    .addColumn('location', 'varchar(255)', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('serial_enc', 'varchar(255)', (c) => c.notNull())
    .addColumn('mqtt_login', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('mqtt_password_hash', 'varchar(255)')
    .addColumn('credentials_delivered', 'integer', (c) => c.notNull())
    .addColumn('outdated_after_ms', 'bigint')
    .addColumn('last_seen', 'bigint')
    .addColumn('last_status', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('devices_customer').on('devices').column('customer_id').execute();
  await db.schema.createIndex('devices_location').on('devices').column('location').execute();

  await db.schema
    .createTable('dashboard_users')
    .addColumn('username', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
    .addColumn('customer_id', 'varchar(64)', (c) => c.references('customers.id'))
    .addColumn('role', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('registry_changes')
    .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('device_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();

  const now = Date.now();
  await db
    .insertInto('device_types')
    .values(
      SEEDED_TYPES.map((name) => ({
        name,
        config_schema: null,
        orders: null,
        outdated_after_ms: null,
        created_at: now,
      })),
    )
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'registry_changes',
    'dashboard_users',
    'devices',
    'device_types',
    'customers',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
