// Device types: an open list (seeded with the seeds' boards), each with an
// optional JSON Schema for its devices' configuration, the orders its modules
// accept, and how long its devices may stay silent before they are outdated.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import type { Clock } from '../util/clock';
import { conflict, invalid, notFound } from './errors';
import { checkConfigAgainst, checkThreshold, checkTypeName, compileSchema } from './validation';

export interface DeviceType {
  name: string;
  configSchema: unknown;
  orders: Record<string, string[]> | null;
  outdatedAfterMs: number | null;
}

export class DeviceTypes {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async list(): Promise<
    Array<{
      name: string;
      configSchema: unknown;
      orders: Record<string, string[]> | null;
      outdatedAfterMs: number | null;
    }>
  > {
    const rows = await this.db.selectFrom('device_types').selectAll().orderBy('name').execute();
    return rows.map((r) => ({
      name: r.name,
      configSchema: r.config_schema ? JSON.parse(r.config_schema) : null,
      orders: r.orders ? (JSON.parse(r.orders) as Record<string, string[]>) : null,
      outdatedAfterMs: r.outdated_after_ms === null ? null : Number(r.outdated_after_ms),
    }));
  }

  /** Creates or replaces a device type. A new schema must accept every existing device's config. */
  async save(input: {
    name: string;
    configSchema?: unknown;
    orders?: Record<string, string[]> | null;
    outdatedAfterMs?: number | null;
  }): Promise<void> {
    const name = checkTypeName(input.name);
    const schemaText =
      input.configSchema === undefined || input.configSchema === null
        ? null
        : JSON.stringify(input.configSchema);
    if (schemaText) compileSchema(schemaText);
    const orders = checkOrders(input.orders);
    const outdated = checkThreshold('outdatedAfterMs', input.outdatedAfterMs);
    await this.db.transaction().execute(async (trx) => {
      if (schemaText) {
        const devices = await trx
          .selectFrom('devices')
          .select(['id', 'config'])
          .where('type', '=', name)
          .execute();
        for (const d of devices) {
          try {
            checkConfigAgainst(schemaText, JSON.parse(d.config));
          } catch (err) {
            throw invalid(
              'configSchema',
              `device ${d.id} would not pass it (${(err as Error).message})`,
            );
          }
        }
      }
      const values = { config_schema: schemaText, orders, outdated_after_ms: outdated };
      const updated = await trx
        .updateTable('device_types')
        .set(values)
        .where('name', '=', name)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) {
        await trx
          .insertInto('device_types')
          .values({ name, ...values, created_at: this.clock.now() })
          .execute();
      }
    });
  }

  async remove(name: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const used = await trx
        .selectFrom('devices')
        .select('id')
        .where('type', '=', name)
        .limit(1)
        .executeTakeFirst();
      if (used) throw conflict('type', `device type ${name} is still used (e.g. by ${used.id})`);
      const result = await trx
        .deleteFrom('device_types')
        .where('name', '=', name)
        .executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw notFound(`no device type ${name}`);
    });
  }

  /** The orders a type accepts for a module kind; null when the type sets no list. */
  async allowedOrders(type: string, kind: string): Promise<string[] | null> {
    const row = await this.db
      .selectFrom('device_types')
      .select('orders')
      .where('name', '=', type)
      .executeTakeFirst();
    if (!row?.orders) return null;
    return (JSON.parse(row.orders) as Record<string, string[]>)[kind] ?? null;
  }
}

function checkOrders(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid('orders', 'must map module kinds to lists of orders');
  for (const [kind, orders] of Object.entries(value)) {
    if (!/^[a-z0-9_]{1,32}$/.test(kind))
      throw invalid(`orders/${kind}`, 'a module kind is 1-32 of a-z 0-9 _');
    if (
      !Array.isArray(orders) ||
      !orders.every((o) => typeof o === 'string' && o.length > 0 && o.length <= 32)
    ) {
      throw invalid(`orders/${kind}`, 'must be a list of order names');
    }
  }
  return JSON.stringify(value);
}
