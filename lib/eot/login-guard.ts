// Guards of the login, kept in the store so a restart forgets nothing and
// instances sharing a database share them: the replay window of the seed's
// AUTH (a device-chosen random accepted once per day), and throttling of
// repeated failures per device id and per address.
import type { Kysely } from 'kysely';
import { isDuplicateKey } from '../registry/errors';
import type { Database } from '../store/schema';

export const DAY_MS = 24 * 3600_000;

export class ReplayWindow {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly windowMs = DAY_MS,
  ) {}

  /** Records `(id, token)` as used at `now`; false when it was already used within the window. */
  async claim(id: string, token: string, now: number): Promise<boolean> {
    // An old use outside the window no longer counts: clear it, then the key decides.
    await this.db
      .deleteFrom('eot_auth_replay')
      .where('device_id', '=', id)
      .where('random', '=', token)
      .where('at', '<=', now - this.windowMs)
      .execute();
    try {
      await this.db
        .insertInto('eot_auth_replay')
        .values({ device_id: id, random: token, at: now })
        .execute();
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  async prune(now: number): Promise<void> {
    await this.db
      .deleteFrom('eot_auth_replay')
      .where('at', '<=', now - this.windowMs)
      .execute();
  }
}

export interface ThrottlePolicy {
  /** Failures within `windowMs` that lock a key out (0: never). Default 5. */
  maxFailures: number;
  /** Default 60 s. */
  windowMs: number;
  /** How long a lockout lasts. Default 5 min. */
  lockMs: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  maxFailures: 5,
  windowMs: 60_000,
  lockMs: 5 * 60_000,
};

export const idKey = (id: string) => `id:${id}`;
export const addressKey = (address: string) => `addr:${address}`;

export class LoginThrottle {
  constructor(
    private readonly db: Kysely<Database>,
    readonly policy: ThrottlePolicy = DEFAULT_THROTTLE,
  ) {}

  /** Whether any of the keys is locked out at `now`. */
  async lockedOut(keys: string[], now: number): Promise<boolean> {
    if (this.policy.maxFailures <= 0) return false;
    const row = await this.db
      .selectFrom('eot_login_failures')
      .select('key')
      .where('key', 'in', keys)
      .where('locked_until', '>', now)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Counts a failure for each key; a key reaching the limit is locked out. */
  async recordFailure(keys: string[], now: number): Promise<void> {
    if (this.policy.maxFailures <= 0) return;
    for (const key of keys) await this.recordOne(key, now);
  }

  async prune(now: number): Promise<void> {
    await this.db
      .deleteFrom('eot_login_failures')
      .where('locked_until', '<=', now)
      .where('window_start', '<=', now - this.policy.windowMs)
      .execute();
  }

  private async recordOne(key: string, now: number, attempt = 0): Promise<void> {
    const cutoff = now - this.policy.windowMs;
    // One atomic update per failure: a window that ended starts again at 1.
    const updated = await this.db
      .updateTable('eot_login_failures')
      .set((eb) => ({
        failures: eb
          .case()
          .when('window_start', '<=', cutoff)
          .then(1)
          .else(eb('failures', '+', 1))
          .end(),
        window_start: eb
          .case()
          .when('window_start', '<=', cutoff)
          .then(now)
          .else(eb.ref('window_start'))
          .end(),
      }))
      .where('key', '=', key)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) {
      try {
        await this.db
          .insertInto('eot_login_failures')
          .values({ key, failures: 1, window_start: now, locked_until: 0 })
          .execute();
      } catch (err) {
        // Another failure inserted it first: count this one as an update.
        if (isDuplicateKey(err) && attempt === 0) return this.recordOne(key, now, 1);
        throw err;
      }
    }
    await this.db
      .updateTable('eot_login_failures')
      .set({ locked_until: now + this.policy.lockMs, failures: 0, window_start: now })
      .where('key', '=', key)
      .where('failures', '>=', this.policy.maxFailures)
      .execute();
  }
}
