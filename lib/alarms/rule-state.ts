// Rule state that must survive a restart: when a `for` window opened, how
// many readings in a row matched, a series' previous value. It changes with
// readings, so it is kept in memory and written behind, at most once per key
// per interval, in one transaction (and always at close).
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import type { Clock, TimerHandle } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import { alarmMetrics } from './metrics';
import { PairMap } from './pair-map';
import { upsertRows } from './upsert';

export interface StateRow {
  ruleId: string;
  subject: string;
  data: unknown;
}

export class RuleStateStore {
  /** Pending writes: the data to store, or null to delete. */
  private readonly dirty = new PairMap<unknown>();
  private timer?: TimerHandle;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly flushMs = 1000,
  ) {}

  /** The stored state whose rule id starts with `prefix` (a set's `<set>/`, or the series'). */
  async load(prefix: string): Promise<StateRow[]> {
    // A range instead of LIKE (whose escapes differ between SQLite and MySQL).
    const after =
      prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    const rows = await this.db
      .selectFrom('rule_state')
      .select(['rule_id', 'subject', 'data'])
      .where('rule_id', '>=', prefix)
      .where('rule_id', '<', after)
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
    this.dirty.set(ruleId, subject, data);
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
      const gone = new Map<string, string[]>();
      const rows: Array<Record<string, unknown>> = [];
      for (const [ruleId, subject, data] of batch) {
        if (data === null) gone.set(ruleId, [...(gone.get(ruleId) ?? []), subject]);
        else rows.push({ rule_id: ruleId, subject, data: JSON.stringify(data), updated_at: now });
      }
      await this.db.transaction().execute(async (trx) => {
        for (const [ruleId, subjects] of gone) {
          for (let i = 0; i < subjects.length; i += 100) {
            await trx
              .deleteFrom('rule_state')
              .where('rule_id', '=', ruleId)
              .where('subject', 'in', subjects.slice(i, i + 100))
              .execute();
          }
        }
        await upsertRows(trx, 'rule_state', rows, ['rule_id', 'subject']);
      });
    } catch (err) {
      alarmMetrics.writeErrors.inc();
      this.logger.warn(`rule state: write failed, kept for the next try: ${errorMessage(err)}`);
      for (const [ruleId, subject, data] of batch)
        if (!this.dirty.has(ruleId, subject)) this.dirty.set(ruleId, subject, data);
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
