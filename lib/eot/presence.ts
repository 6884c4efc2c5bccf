// Which instance holds which EOT device (table eot_presence), for servers
// sharing one store: written at login (taking the row over from whoever held
// it), removed at disconnect (only by the session that wrote it), and for a
// lost instance by the cluster (lib/cluster/cluster.ts).
import type { Kysely } from 'kysely';
import { isDuplicateKey } from '../registry/errors';
import type { Database } from '../store/schema';

export interface Presence {
  deviceId: string;
  serverId: string;
  instanceId: string;
  instanceToken: string;
  session: string;
  customerId: string;
  since: number;
}

export class PresenceTable {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records that `p` holds the device now; returns who held it before, if anyone. */
  async claim(p: Presence): Promise<Presence | null> {
    for (let attempt = 0; ; attempt++) {
      const previous = await this.find(p.deviceId);
      try {
        if (!previous) {
          await this.db.insertInto('eot_presence').values(rowOf(p)).execute();
          return null;
        }
        const result = await this.db
          .updateTable('eot_presence')
          .set(rowOf(p))
          .where('device_id', '=', p.deviceId)
          .where('session', '=', previous.session)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 1) return previous;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      // Another login of the same device wrote meanwhile: look again.
      if (attempt >= 5) throw new Error(`presence of ${p.deviceId} keeps changing`);
    }
  }

  /** Forgets the device's presence, if `session` still holds it. */
  async release(deviceId: string, session: string): Promise<void> {
    await this.db
      .deleteFrom('eot_presence')
      .where('device_id', '=', deviceId)
      .where('session', '=', session)
      .execute();
  }

  async find(deviceId: string): Promise<Presence | null> {
    const row = await this.db
      .selectFrom('eot_presence')
      .selectAll()
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return row
      ? {
          deviceId: row.device_id,
          serverId: row.server_id,
          instanceId: row.instance_id,
          instanceToken: row.instance_token,
          session: row.session,
          customerId: row.customer_id,
          since: Number(row.since),
        }
      : null;
  }
}

function rowOf(p: Presence) {
  return {
    device_id: p.deviceId,
    server_id: p.serverId,
    instance_id: p.instanceId,
    instance_token: p.instanceToken,
    session: p.session,
    customer_id: p.customerId,
    since: p.since,
  };
}
