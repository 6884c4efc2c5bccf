// The alarm lifecycle, after ISA-18.2: an alarm is active or cleared, and
// acknowledged or not. Active-unacknowledged → acknowledge → active-acknowledged;
// the condition clearing an unacknowledged alarm leaves it cleared-unacknowledged
// until someone acknowledges it (then it closes), and clearing an acknowledged
// one closes it. A cleared-unacknowledged alarm whose condition returns becomes
// active again (the same alarm). Shelving hides an alarm for a time without
// changing its state; escalation raises its severity and asks for a new
// acknowledgement. Pure functions: the book applies them and stores the result.
import { Severity, severityRank } from './format';

export const ALARM_STATES = ['active_unack', 'active_ack', 'cleared_unack', 'closed'] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

export type AlarmEvent =
  'raise' | 'reraise' | 'escalate' | 'acknowledge' | 'clear' | 'shelve' | 'unshelve';

/** Why a transition happened. */
export type Cause = 'condition' | 'timer' | 'manual' | 'expired';

export interface Alarm {
  id: string;
  ruleId: string;
  /** The device id or location the alarm is about. */
  subject: string;
  /** The alarm's name, from the rule (`alarm`). */
  name: string;
  severity: Severity;
  state: AlarmState;
  deviceId: string | null;
  location: string | null;
  kind: string | null;
  customerId: string | null;
  /** The reading's value at the last transition driven by a reading. */
  value: number | null;
  raisedAt: number;
  updatedAt: number;
  clearedAt: number | null;
  ackedAt: number | null;
  ackedBy: string | null;
  ackComment: string | null;
  shelvedUntil: number | null;
  shelvedBy: string | null;
  /** Counts transitions: a transition's `version` identifies it. */
  version: number;
}

export interface Transition {
  alarmId: string;
  version: number;
  at: number;
  event: AlarmEvent;
  from: AlarmState | null;
  to: AlarmState;
  severity: Severity;
  cause: Cause;
  actor: string | null;
  comment: string | null;
  value: number | null;
}

export const isActive = (state: AlarmState) => state === 'active_unack' || state === 'active_ack';
export const isOpen = (state: AlarmState) => state !== 'closed';

export class LifecycleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LifecycleError';
  }
}

export interface Step {
  event: AlarmEvent;
  at: number;
  cause: Cause;
  actor?: string | null;
  comment?: string | null;
  value?: number | null;
  severity?: Severity;
  shelvedUntil?: number;
}

/** Applies one step to an existing alarm; throws a LifecycleError when it does not apply. */
export function apply(alarm: Alarm, step: Step): { alarm: Alarm; transition: Transition } {
  const next: Alarm = { ...alarm, updatedAt: step.at, version: alarm.version + 1 };
  const refuse = (why: string) => {
    throw new LifecycleError(`alarm ${alarm.id} is ${alarm.state.replace('_', ' ')}: ${why}`);
  };
  switch (step.event) {
    case 'acknowledge':
      if (alarm.state === 'active_unack') next.state = 'active_ack';
      else if (alarm.state === 'cleared_unack') next.state = 'closed';
      else refuse('already acknowledged');
      next.ackedAt = step.at;
      next.ackedBy = step.actor ?? null;
      next.ackComment = step.comment ?? null;
      break;
    case 'clear':
      if (alarm.state === 'active_unack') next.state = 'cleared_unack';
      else if (alarm.state === 'active_ack' || alarm.state === 'cleared_unack')
        next.state = 'closed';
      else refuse('nothing to clear');
      next.clearedAt = alarm.clearedAt ?? step.at;
      if (alarm.state === 'cleared_unack') {
        // Clearing by hand what already cleared: it is seen, so it closes.
        next.ackedAt = step.at;
        next.ackedBy = step.actor ?? null;
      }
      break;
    case 'reraise':
      if (alarm.state !== 'cleared_unack') refuse('only a cleared alarm comes back');
      next.state = 'active_unack';
      next.clearedAt = null;
      break;
    case 'escalate':
      if (!isActive(alarm.state)) refuse('only an active alarm escalates');
      if (!step.severity || severityRank(step.severity) <= severityRank(alarm.severity))
        refuse(`severity ${step.severity} is not above ${alarm.severity}`);
      next.severity = step.severity!;
      next.state = 'active_unack';
      next.ackedAt = null;
      next.ackedBy = null;
      next.ackComment = null;
      break;
    case 'shelve':
      if (!isOpen(alarm.state)) refuse('a closed alarm cannot be shelved');
      next.shelvedUntil = step.shelvedUntil ?? null;
      next.shelvedBy = step.actor ?? null;
      break;
    case 'unshelve':
      if (alarm.shelvedUntil === null) refuse('it is not shelved');
      next.shelvedUntil = null;
      next.shelvedBy = null;
      break;
    case 'raise':
      refuse('it exists already');
  }
  if (step.value !== undefined && step.value !== null) next.value = step.value;
  return { alarm: next, transition: transitionOf(alarm.state, next, step) };
}

export interface NewAlarm {
  id: string;
  ruleId: string;
  subject: string;
  name: string;
  severity: Severity;
  deviceId?: string | null;
  location?: string | null;
  kind?: string | null;
  customerId?: string | null;
  value?: number | null;
  shelvedUntil?: number | null;
}

export function create(input: NewAlarm, step: Step): { alarm: Alarm; transition: Transition } {
  const alarm: Alarm = {
    id: input.id,
    ruleId: input.ruleId,
    subject: input.subject,
    name: input.name,
    severity: input.severity,
    state: 'active_unack',
    deviceId: input.deviceId ?? null,
    location: input.location ?? null,
    kind: input.kind ?? null,
    customerId: input.customerId ?? null,
    value: input.value ?? null,
    raisedAt: step.at,
    updatedAt: step.at,
    clearedAt: null,
    ackedAt: null,
    ackedBy: null,
    ackComment: null,
    shelvedUntil: input.shelvedUntil ?? null,
    shelvedBy: null,
    version: 1,
  };
  return { alarm, transition: transitionOf(null, alarm, step) };
}

function transitionOf(from: AlarmState | null, alarm: Alarm, step: Step): Transition {
  return {
    alarmId: alarm.id,
    version: alarm.version,
    at: step.at,
    event: step.event,
    from,
    to: alarm.state,
    severity: alarm.severity,
    cause: step.cause,
    actor: step.actor ?? null,
    comment: step.comment ?? null,
    value: step.value ?? null,
  };
}
