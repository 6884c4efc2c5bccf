// What operators do to alarms, from a flow (alarm-control), the dashboard or
// the REST API: acknowledge, shelve, unshelve, clear, escalate, get, list.
// One parser of requests, so the three speak the same language and refuse
// the same bad input with the same message.
import type { AlarmBook, AlarmChange } from './book';
import type { AlarmFilter } from './book-store';
import { AlarmError } from './errors';
import { parseDuration, SEVERITIES, Severity } from './format';
import { ALARM_STATES } from './lifecycle';

export const ACTIONS = [
  'acknowledge',
  'shelve',
  'unshelve',
  'clear',
  'escalate',
  'get',
  'list',
] as const;
export type ControlAction = (typeof ACTIONS)[number];

export interface ControlRequest {
  action: ControlAction;
  alarmId?: string;
  actor?: string | null;
  comment?: string | null;
  /** Shelve duration: `30m` or milliseconds. */
  duration?: string | number;
  severity?: Severity;
  filter?: AlarmFilter;
}

const invalid = (message: string) => new AlarmError('invalid', message);

function text(value: unknown, name: string, max: number): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalid(`${name} must be text`);
  if (value.length > max) throw invalid(`${name} must be at most ${max} characters`);
  return value;
}

function integer(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
    throw invalid(`${name} must be a whole number >= 0`);
  return n;
}

/** A list filter from loose input (query strings, msg.payload). */
export function parseFilter(input: Record<string, unknown>): AlarmFilter {
  const state = text(input.state, 'state', 32);
  const states = ['active', 'open', 'closed', 'all', ...ALARM_STATES];
  if (state !== undefined && !states.includes(state))
    throw invalid(`state must be one of ${states.join(', ')}`);
  const severity = text(input.severity, 'severity', 32);
  if (severity !== undefined && !(SEVERITIES as readonly string[]).includes(severity))
    throw invalid(`severity must be one of ${SEVERITIES.join(', ')}`);
  const limit = integer(input.limit, 'limit');
  if (limit !== undefined && (limit < 1 || limit > 1000)) throw invalid('limit must be 1 to 1000');
  return {
    state: state as AlarmFilter['state'],
    severity: severity as Severity | undefined,
    deviceId: text(input.deviceId, 'deviceId', 64),
    customerId: text(input.customerId, 'customerId', 64),
    ruleId: text(input.ruleId, 'ruleId', 160),
    ruleSet: text(input.ruleSet, 'ruleSet', 64),
    name: text(input.name, 'name', 255),
    location: text(input.location, 'location', 255),
    since: integer(input.since, 'since'),
    until: integer(input.until, 'until'),
    limit,
    offset: integer(input.offset, 'offset'),
  };
}

/** A request from loose input; `action` may be given by the caller (node setting, URL). */
export function parseRequest(input: Record<string, unknown>, action?: string): ControlRequest {
  const chosen = action ?? input.action;
  if (typeof chosen !== 'string' || !(ACTIONS as readonly string[]).includes(chosen))
    throw invalid(`action must be one of ${ACTIONS.join(', ')}`);
  const request: ControlRequest = {
    action: chosen as ControlAction,
    alarmId: text(input.alarmId ?? input.id, 'alarmId', 64),
    actor: text(input.user ?? input.actor, 'user', 64) ?? null,
    comment: text(input.comment, 'comment', 1024) ?? null,
  };
  if (request.action === 'list') request.filter = parseFilter(input);
  else if (!request.alarmId) throw invalid('alarmId is required');
  if (request.action === 'shelve') {
    const duration = input.duration;
    if (typeof duration !== 'string' && typeof duration !== 'number')
      throw invalid('duration is required (e.g. 30m, 2h, or milliseconds)');
    try {
      request.duration = parseDuration(duration);
    } catch (err) {
      throw invalid(`duration: ${(err as Error).message}`);
    }
  }
  if (request.action === 'escalate') {
    const severity = input.severity;
    if (typeof severity !== 'string' || !(SEVERITIES as readonly string[]).includes(severity))
      throw invalid(`severity must be one of ${SEVERITIES.join(', ')}`);
    request.severity = severity as Severity;
  }
  return request;
}

/** Carries out a request; the result is the alarm as it now is, the alarm
 *  with its transitions (`get`), or a page of alarms (`list`). */
export async function runControl(book: AlarmBook, request: ControlRequest): Promise<unknown> {
  const id = request.alarmId!;
  const how = { actor: request.actor, comment: request.comment };
  // Another instance may have changed the alarm a moment ago.
  await book.catchUp();
  let change: AlarmChange;
  switch (request.action) {
    case 'list':
      return book.list(request.filter);
    case 'get':
      return { alarm: await book.get(id), transitions: await book.transitions(id) };
    case 'acknowledge':
      change = book.acknowledge(id, how);
      break;
    case 'shelve':
      change = book.shelve(id, request.duration as number, how);
      break;
    case 'unshelve':
      change = book.unshelve(id, how);
      break;
    case 'clear':
      change = book.clear(id, how);
      break;
    case 'escalate':
      change = book.escalate(id, request.severity!, how);
      break;
  }
  if (!(await book.confirmed(change)))
    throw new AlarmError(
      'conflict',
      `alarm ${id} was changed by another server meanwhile: try again`,
    );
  return change.alarm;
}
