// Dashboard users: people who watch the pages (viewer) or also send orders and
// acknowledge alarms (operator), for one customer or for all of them.
// Human passwords, so bcrypt: slow on purpose.
import bcrypt from 'bcryptjs';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import type { Clock } from '../util/clock';
import { conflict, invalid, isDuplicateKey, notFound } from './errors';
import { checkId } from './validation';

export type Role = 'viewer' | 'operator';

export interface DashboardUser {
  username: string;
  /** Null: every customer. */
  customerId: string | null;
  role: Role;
}

const BCRYPT_COST = 10;

export class DashboardUsers {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async add(input: {
    username: string;
    password: string;
    customerId?: string | null;
    role?: Role;
  }): Promise<DashboardUser> {
    const username = checkId('username', input.username);
    const role = checkRole(input.role);
    const customerId = input.customerId ? checkId('customerId', input.customerId) : null;
    const hash = await bcrypt.hash(checkPassword(input.password), BCRYPT_COST);
    const now = this.clock.now();
    try {
      await this.db.transaction().execute(async (trx) => {
        if (customerId) {
          const found = await trx
            .selectFrom('customers')
            .select('id')
            .where('id', '=', customerId)
            .executeTakeFirst();
          if (!found) throw invalid('customerId', `unknown customer ${customerId}`);
        }
        await trx
          .insertInto('dashboard_users')
          .values({
            username,
            password_hash: hash,
            customer_id: customerId,
            role,
            created_at: now,
            updated_at: now,
          })
          .execute();
      });
    } catch (err) {
      if (isDuplicateKey(err)) throw conflict('username', `user ${username} already exists`);
      throw err;
    }
    return { username, customerId, role };
  }

  async list(): Promise<DashboardUser[]> {
    const rows = await this.db
      .selectFrom('dashboard_users')
      .select(['username', 'customer_id', 'role'])
      .orderBy('username')
      .execute();
    return rows.map((r) => ({
      username: r.username,
      customerId: r.customer_id,
      role: r.role as Role,
    }));
  }

  /** Whether any dashboard user exists (then the dashboard asks for a login). */
  async any(): Promise<boolean> {
    const row = await this.db
      .selectFrom('dashboard_users')
      .select('username')
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async setPassword(username: string, password: string): Promise<void> {
    const hash = await bcrypt.hash(checkPassword(password), BCRYPT_COST);
    const result = await this.db
      .updateTable('dashboard_users')
      .set({ password_hash: hash, updated_at: this.clock.now() })
      .where('username', '=', username)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw notFound(`no user ${username}`);
  }

  async remove(username: string): Promise<void> {
    const result = await this.db
      .deleteFrom('dashboard_users')
      .where('username', '=', username)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound(`no user ${username}`);
  }

  /** The user these credentials belong to, or null. */
  async verify(username: string, password: string): Promise<DashboardUser | null> {
    const row = await this.db
      .selectFrom('dashboard_users')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
    if (!row || !(await bcrypt.compare(password, row.password_hash))) return null;
    return { username: row.username, customerId: row.customer_id, role: row.role as Role };
  }
}

function checkRole(value: unknown): Role {
  if (value === undefined) return 'viewer';
  if (value === 'viewer' || value === 'operator') return value;
  throw invalid('role', 'must be viewer or operator');
}

function checkPassword(value: unknown): string {
  if (typeof value !== 'string' || value.length < 8 || value.length > 128) {
    throw invalid('password', 'must be 8-128 characters');
  }
  return value;
}
