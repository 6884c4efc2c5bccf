// How alarms and transitions sit in the store, and the queries the API and
// the alarm-control node ask (active, history, by device, customer, severity).
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../store/schema';
import type { Severity } from './format';
import type { Alarm, AlarmState, Cause, AlarmEvent, Transition } from './lifecycle';
import type { RuleAlarmsTable, RuleAlarmTransitionsTable } from './schema';
import { upsertRows } from './upsert';

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function alarmFromRow(row: Selectable<RuleAlarmsTable>): Alarm {
  return {
    id: row.id,
    ruleId: row.rule_id,
    subject: row.subject,
    name: row.alarm,
    severity: row.severity as Severity,
    state: row.state as AlarmState,
    deviceId: row.device_id,
    location: row.location,
    kind: row.kind,
    customerId: row.customer_id,
    value: num(row.value),
    raisedAt: Number(row.raised_at),
    updatedAt: Number(row.updated_at),
    clearedAt: num(row.cleared_at),
    ackedAt: num(row.acked_at),
    ackedBy: row.acked_by,
    ackComment: row.ack_comment,
    shelvedUntil: num(row.shelved_until),
    shelvedBy: row.shelved_by,
    version: Number(row.version),
  };
}

function rowOf(alarm: Alarm): RuleAlarmsTable & Record<string, unknown> {
  return {
    id: alarm.id,
    rule_id: alarm.ruleId,
    subject: alarm.subject,
    alarm: alarm.name,
    severity: alarm.severity,
    state: alarm.state,
    open: alarm.state === 'closed' ? 0 : 1,
    device_id: alarm.deviceId,
    location: alarm.location,
    kind: alarm.kind,
    customer_id: alarm.customerId,
    value: alarm.value,
    raised_at: alarm.raisedAt,
    updated_at: alarm.updatedAt,
    cleared_at: alarm.clearedAt,
    acked_at: alarm.ackedAt,
    acked_by: alarm.ackedBy,
    ack_comment: alarm.ackComment,
    shelved_until: alarm.shelvedUntil,
    shelved_by: alarm.shelvedBy,
    version: alarm.version,
  };
}

export function transitionFromRow(row: Selectable<RuleAlarmTransitionsTable>): Transition {
  return {
    alarmId: row.alarm_id,
    version: Number(row.version),
    at: Number(row.at),
    event: row.event as AlarmEvent,
    from: row.from_state as AlarmState | null,
    to: row.to_state as AlarmState,
    severity: row.severity as Severity,
    cause: row.cause as Cause,
    actor: row.actor,
    comment: row.comment,
    value: num(row.value),
  };
}

/** Writes a batch of transitions, and each alarm as it is after the last of
 *  them, in one transaction (an alarm storm costs a few statements per alarm). */
export async function writeTransitions(
  db: Kysely<Database>,
  batch: Array<{ alarm: Alarm; transition: Transition }>,
): Promise<void> {
  const latest = new Map<string, Alarm>();
  for (const { alarm } of batch) latest.set(alarm.id, alarm);
  const rows = batch.map(({ transition: t }) => ({
    alarm_id: t.alarmId,
    version: t.version,
    at: t.at,
    event: t.event,
    from_state: t.from,
    to_state: t.to,
    severity: t.severity,
    cause: t.cause,
    actor: t.actor,
    comment: t.comment,
    value: t.value,
  }));
  await db.transaction().execute(async (trx) => {
    await upsertRows(trx, 'rule_alarms', [...latest.values()].map(rowOf), ['id']);
    for (let i = 0; i < rows.length; i += 100) {
      await trx
        .insertInto('rule_alarm_transitions')
        .values(rows.slice(i, i + 100))
        .execute();
    }
  });
}

export interface AlarmFilter {
  /** `active` (default), `open` (not closed), `closed`, or `all` (history). */
  state?: 'active' | 'open' | 'closed' | 'all' | AlarmState;
  deviceId?: string;
  customerId?: string;
  severity?: Severity;
  ruleId?: string;
  /** Rules whose id starts with `<set>/`. */
  ruleSet?: string;
  name?: string;
  location?: string;
  /** Raised at or after (epoch ms). */
  since?: number;
  /** Raised before (epoch ms). */
  until?: number;
  limit?: number;
  offset?: number;
}

export const MAX_LIMIT = 1000;

export async function queryAlarms(
  db: Kysely<Database>,
  filter: AlarmFilter,
): Promise<{ items: Alarm[]; total: number }> {
  let query = db.selectFrom('rule_alarms');
  const state = filter.state ?? 'active';
  if (state === 'active') query = query.where('state', 'in', ['active_unack', 'active_ack']);
  else if (state === 'open') query = query.where('open', '=', 1);
  else if (state === 'closed') query = query.where('open', '=', 0);
  else if (state !== 'all') query = query.where('state', '=', state);
  if (filter.deviceId) query = query.where('device_id', '=', filter.deviceId);
  if (filter.customerId) query = query.where('customer_id', '=', filter.customerId);
  if (filter.severity) query = query.where('severity', '=', filter.severity);
  if (filter.ruleId) query = query.where('rule_id', '=', filter.ruleId);
  // `<set>/…` as a range ('0' follows '/'): portable, where LIKE escapes are not.
  if (filter.ruleSet)
    query = query
      .where('rule_id', '>=', `${filter.ruleSet}/`)
      .where('rule_id', '<', `${filter.ruleSet}0`);
  if (filter.name) query = query.where('alarm', '=', filter.name);
  if (filter.location) query = query.where('location', '=', filter.location);
  if (filter.since !== undefined) query = query.where('raised_at', '>=', filter.since);
  if (filter.until !== undefined) query = query.where('raised_at', '<', filter.until);
  const counted = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  const rows = await query
    .selectAll()
    .orderBy('raised_at', 'desc')
    .orderBy('id')
    .limit(Math.min(filter.limit ?? 100, MAX_LIMIT))
    .offset(filter.offset ?? 0)
    .execute();
  return { items: rows.map(alarmFromRow), total: Number(counted?.n ?? 0) };
}

export async function queryTransitions(
  db: Kysely<Database>,
  alarmId: string,
): Promise<Transition[]> {
  const rows = await db
    .selectFrom('rule_alarm_transitions')
    .selectAll()
    .where('alarm_id', '=', alarmId)
    .orderBy('version')
    .execute();
  return rows.map(transitionFromRow);
}

export async function loadAlarm(db: Kysely<Database>, id: string): Promise<Alarm | null> {
  const row = await db
    .selectFrom('rule_alarms')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? alarmFromRow(row) : null;
}

/** What the book holds in memory at start: open alarms, and shelves that outlive a closed alarm. */
export async function loadLive(
  db: Kysely<Database>,
  now: number,
): Promise<{ open: Alarm[]; shelves: Alarm[] }> {
  const open = await db.selectFrom('rule_alarms').selectAll().where('open', '=', 1).execute();
  const shelves = await db
    .selectFrom('rule_alarms')
    .selectAll()
    .where('open', '=', 0)
    .where('shelved_until', '>', now)
    .execute();
  return { open: open.map(alarmFromRow), shelves: shelves.map(alarmFromRow) };
}
