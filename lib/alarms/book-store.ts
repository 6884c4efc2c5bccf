// How alarms and transitions sit in the store, and the queries the API and
// the alarm-control node ask (active, history, by device, customer, severity).
import { createHash } from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { isDuplicateKey } from '../registry/errors';
import type { Database } from '../store/schema';
import type { Severity } from './format';
import type { Alarm, AlarmState, Cause, AlarmEvent, Transition } from './lifecycle';
import type { RuleAlarmsTable, RuleAlarmTransitionsTable } from './schema';

/** The unique key of an open alarm of (rule, subject): a hash, short enough
 *  for a MySQL unique index (migration 0600). */
export function openKey(ruleId: string, subject: string): string {
  return createHash('sha256').update(`${ruleId}\u0000${subject}`).digest('hex');
}

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
    open_key: alarm.state === 'closed' ? null : openKey(alarm.ruleId, alarm.subject),
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
 *  them, in one transaction. An alarm is written only if the store still holds
 *  the version its first transition here started from (a new alarm: only if
 *  no other alarm of its rule and subject is open), so two instances never
 *  both apply a transition; returns the ids of the alarms refused that way,
 *  whose transitions are not written. */
export async function writeTransitions(
  db: Kysely<Database>,
  batch: Array<{ alarm: Alarm; transition: Transition }>,
): Promise<Set<string>> {
  const byAlarm = new Map<string, { from: number; created: boolean; latest: Alarm }>();
  for (const { alarm, transition } of batch) {
    const seen = byAlarm.get(alarm.id);
    if (seen) seen.latest = alarm;
    else
      byAlarm.set(alarm.id, {
        from: transition.version - 1,
        created: transition.event === 'raise',
        latest: alarm,
      });
  }
  const refused = new Set<string>();
  await db.transaction().execute(async (trx) => {
    for (const [id, { from, created, latest }] of byAlarm)
      if (!(await writeAlarm(trx, latest, from, created))) refused.add(id);
    const rows = batch
      .filter(({ alarm }) => !refused.has(alarm.id))
      .map(({ transition: t }) => ({
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
    for (let i = 0; i < rows.length; i += 100) {
      await trx
        .insertInto('rule_alarm_transitions')
        .values(rows.slice(i, i + 100))
        .execute();
    }
  });
  return refused;
}

async function writeAlarm(
  trx: Transaction<Database>,
  alarm: Alarm,
  fromVersion: number,
  created: boolean,
): Promise<boolean> {
  if (created) {
    try {
      await trx.insertInto('rule_alarms').values(rowOf(alarm)).execute();
      return true;
    } catch (err) {
      // Another instance holds an open alarm of this rule and subject.
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }
  try {
    const result = await trx
      .updateTable('rule_alarms')
      .set(rowOf(alarm))
      .where('id', '=', alarm.id)
      .where('version', '=', fromVersion)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  } catch (err) {
    // Coming back (re-raised) while another instance raised a new one.
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/** Alarms changed in the store since transition `afterSeq` (by anyone): their
 *  ids and versions, and the last sequence number read. */
export async function changedSince(
  db: Kysely<Database>,
  afterSeq: number,
): Promise<{ changes: Array<{ id: string; version: number }>; lastSeq: number }> {
  const rows = await db
    .selectFrom('rule_alarm_transitions')
    .select(['seq', 'alarm_id', 'version'])
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(1000)
    .execute();
  return {
    changes: rows.map((r) => ({ id: r.alarm_id, version: Number(r.version) })),
    lastSeq: rows.length > 0 ? Number(rows[rows.length - 1].seq) : afterSeq,
  };
}

export async function lastTransitionSeq(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('rule_alarm_transitions')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return Number(row?.seq ?? 0);
}

export async function loadAlarms(db: Kysely<Database>, ids: string[]): Promise<Alarm[]> {
  const alarms: Alarm[] = [];
  for (let i = 0; i < ids.length; i += 100) {
    const rows = await db
      .selectFrom('rule_alarms')
      .selectAll()
      .where('id', 'in', ids.slice(i, i + 100))
      .execute();
    alarms.push(...rows.map(alarmFromRow));
  }
  return alarms;
}

/** The open alarm of (rule, subject) in the store, whoever raised it. */
export async function loadOpen(
  db: Kysely<Database>,
  ruleId: string,
  subject: string,
): Promise<Alarm | null> {
  const row = await db
    .selectFrom('rule_alarms')
    .selectAll()
    .where('open_key', '=', openKey(ruleId, subject))
    .executeTakeFirst();
  return row ? alarmFromRow(row) : null;
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
