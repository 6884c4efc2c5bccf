// MSG and WRITE frames for a device that is offline, kept in the store until
// it logs in (then delivered in order) or their time to live ends. A frame is
// acknowledged `ACK|queued` only once its row is committed, so a restart loses
// nothing that was acknowledged; a row is deleted only after its delivery was
// written to the socket, so delivery is at least once.
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../store/schema';
import type { Frame } from './codec';
import type { EotQueueTable } from './schema';

export interface QueuedFrame {
  seq: number;
  customerId: string;
  frame: Frame;
  createdAt: number;
  expiresAt: number;
}

export class OfflineQueue {
  constructor(private readonly db: Kysely<Database>) {}

  /** Keeps `frame` for its destination; returns its sequence number. */
  async add(customerId: string, frame: Frame, now: number, ttlMs: number): Promise<number> {
    const result = await this.db
      .insertInto('eot_queue')
      .values({
        customer_id: customerId,
        destination: frame.destination,
        origin: frame.origin,
        type: frame.type,
        fields: JSON.stringify(frame.fields),
        created_at: now,
        expires_at: now + ttlMs,
      })
      .executeTakeFirst();
    return Number(result.insertId);
  }

  /** How many frames wait for `destination`. */
  async countFor(destination: string): Promise<number> {
    const row = await this.db
      .selectFrom('eot_queue')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('destination', '=', destination)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** The oldest unexpired frames for `destination`, in order. */
  async next(destination: string, now: number, limit = 100): Promise<QueuedFrame[]> {
    const rows = await this.db
      .selectFrom('eot_queue')
      .selectAll()
      .where('destination', '=', destination)
      .where('expires_at', '>', now)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map(toQueued);
  }

  /** Frames whose time to live has ended. */
  async expired(now: number, limit = 500): Promise<QueuedFrame[]> {
    const rows = await this.db
      .selectFrom('eot_queue')
      .selectAll()
      .where('expires_at', '<=', now)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map(toQueued);
  }

  /** Deletes rows one by one; returns those this call deleted (another
   *  instance sweeping at the same moment gets the others). */
  async claim(seqs: number[]): Promise<Set<number>> {
    const mine = new Set<number>();
    for (const seq of seqs) {
      const result = await this.db
        .deleteFrom('eot_queue')
        .where('seq', '=', seq)
        .executeTakeFirst();
      if (Number(result.numDeletedRows) === 1) mine.add(seq);
    }
    return mine;
  }

  /** Whether the very same frame already waits for its destination (an order sent again). */
  async holds(frame: Frame): Promise<boolean> {
    const row = await this.db
      .selectFrom('eot_queue')
      .select('seq')
      .where('destination', '=', frame.destination)
      .where('origin', '=', frame.origin)
      .where('type', '=', frame.type)
      .where('fields', '=', JSON.stringify(frame.fields))
      .executeTakeFirst();
    return row !== undefined;
  }

  async remove(seqs: number[]): Promise<void> {
    if (seqs.length === 0) return;
    await this.db.deleteFrom('eot_queue').where('seq', 'in', seqs).execute();
  }

  async depth(): Promise<number> {
    const row = await this.db
      .selectFrom('eot_queue')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}

function toQueued(row: Selectable<EotQueueTable>): QueuedFrame {
  return {
    seq: Number(row.seq),
    customerId: row.customer_id,
    frame: {
      origin: row.origin,
      destination: row.destination,
      type: row.type,
      fields: JSON.parse(row.fields) as string[],
    },
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}
