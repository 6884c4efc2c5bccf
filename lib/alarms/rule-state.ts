// Rule state that must survive a restart: when a `for` window opened, how
// many readings in a row matched, a series' previous value. It changes with
// readings, so it is kept in memory and written behind, at most once per key
// per interval, in one transaction (and always at close).
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import type { Clock, TimerHandle } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import { alarmMetrics } from './metrics';

const keyOf = (ruleId: string, subject: string) => `${ruleId}\u0000${subject}`;

export interface StateRow {
  ruleId: string;
  subject: string;
  data: unknown;
}

export class RuleStateStore {
  /** Pending writes: the data to store, or null to delete. */
  private readonly dirty = new Map<string, { ruleId: string; subject: string; data: unknown }>();
  private timer?: TimerHandle;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly flushMs = 1000,
  ) {}

  /** The stored state of one rule set: rows whose rule id is `<set>/…` or `<set>#…`. */
  async load(set: string): Promise<StateRow[]> {
    const rows = await this.db
      .selectFrom('rule_state')
      .select(['rule_id', 'subject', 'data'])
      .where((eb) =>
        eb.or([
          eb.and([eb('rule_id', '>=', `${set}/`), eb('rule_id', '<', `${set}0`)]),
          eb.and([eb('rule_id', '>=', `${set}#`), eb('rule_id', '<', `${set}$`)]),
        ]),
      )
      .execute();
    const result: StateRow[] = [];
    for (const row of rows) {
      try {
        result.push({ ruleId: row.rule_id, subject: row.subject, data: JSON.parse(row.data) });
      } catch {
        this.logger.warn(`rule state ${row.rule_id} ${row.subject}: unreadable, ignored`);
      }
    }
    return result;
  }

  /** Records the state of (rule, subject); null deletes it. Written within the interval. */
  set(ruleId: string, subject: string, data: unknown): void {
    this.dirty.set(keyOf(ruleId, subject), { ruleId, subject, data });
    this.timer ??= this.clock.setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(() => undefined);
    }, this.flushMs);
  }

  /** Writes every pending change now (kept for the next try when the store fails). */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.writeBatch());
    return this.writing;
  }

  private async writeBatch(): Promise<void> {
    const batch = [...this.dirty.entries()];
    this.dirty.clear();
    if (batch.length === 0) return;
    const now = this.clock.now();
    try {
      await this.db.transaction().execute(async (trx) => {
        for (const [, { ruleId, subject, data }] of batch) {
          await trx
            .deleteFrom('rule_state')
            .where('rule_id', '=', ruleId)
            .where('subject', '=', subject)
            .execute();
          if (data !== null)
            await trx
              .insertInto('rule_state')
              .values({ rule_id: ruleId, subject, data: JSON.stringify(data), updated_at: now })
              .execute();
        }
      });
    } catch (err) {
      alarmMetrics.writeErrors.inc();
      this.logger.warn(`rule state: write failed, kept for the next try: ${errorMessage(err)}`);
      for (const [key, value] of batch) if (!this.dirty.has(key)) this.dirty.set(key, value);
      this.timer ??= this.clock.setTimeout(() => {
        this.timer = undefined;
        this.flush().catch(() => undefined);
      }, this.flushMs);
    }
  }

  async close(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
