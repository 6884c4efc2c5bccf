// Customers: the groups devices belong to. Devices only ever reach devices of
// their own customer, and a customer goes only once it holds nothing.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import type { Clock } from '../util/clock';
import { conflict, isDuplicateKey, notFound } from './errors';
import { checkId, checkText } from './validation';

export interface Customer {
  id: string;
  name: string;
  devices: number;
}

export class Customers {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async add(input: { id: string; name: string }): Promise<void> {
    const id = checkId('id', input.id);
    const name = checkText('name', input.name, 255, true);
    try {
      await this.db
        .insertInto('customers')
        .values({ id, name, created_at: this.clock.now() })
        .execute();
    } catch (err) {
      if (isDuplicateKey(err)) throw conflict('id', `customer ${id} already exists`);
      throw err;
    }
  }

  async list(): Promise<Customer[]> {
    const rows = await this.db
      .selectFrom('customers')
      .leftJoin('devices', 'devices.customer_id', 'customers.id')
      .select([
        'customers.id',
        'customers.name',
        (eb) => eb.fn.count<number>('devices.id').as('devices'),
      ])
      .groupBy(['customers.id', 'customers.name'])
      .orderBy('customers.id')
      .execute();
    return rows.map((r) => ({ id: r.id, name: r.name, devices: Number(r.devices) }));
  }

  /** Removes a customer that has no devices and no dashboard users left. */
  async remove(id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const used = await trx
        .selectFrom('devices')
        .select('id')
        .where('customer_id', '=', id)
        .limit(1)
        .executeTakeFirst();
      if (used) throw conflict('id', `customer ${id} still has devices (e.g. ${used.id})`);
      const user = await trx
        .selectFrom('dashboard_users')
        .select('username')
        .where('customer_id', '=', id)
        .limit(1)
        .executeTakeFirst();
      if (user)
        throw conflict('id', `customer ${id} still has dashboard users (e.g. ${user.username})`);
      const result = await trx.deleteFrom('customers').where('id', '=', id).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw notFound(`no customer ${id}`);
    });
  }
}
