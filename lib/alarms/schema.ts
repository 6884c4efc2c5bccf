// Alarm tables: rule-raised alarms (one open per rule and device/location),
// every transition they went through, and rule state (a `for` window's start,
// a `repeat` count, a series' previous value) so timers resume after a
// restart. Named `rule_…` beside the EOT server's table of device-sent alarms.
import type { Generated } from 'kysely';

export interface RuleAlarmsTable {
  id: string;
  rule_id: string;
  subject: string;
  alarm: string;
  severity: string;
  state: string;
  /** 1 until the alarm is closed. */
  open: number;
  device_id: string | null;
  location: string | null;
  kind: string | null;
  customer_id: string | null;
  value: number | null;
  raised_at: number;
  updated_at: number;
  cleared_at: number | null;
  acked_at: number | null;
  acked_by: string | null;
  ack_comment: string | null;
  shelved_until: number | null;
  shelved_by: string | null;
  version: number;
  /** While open: a hash of (rule, subject), unique, so only one open alarm per key
   *  can exist whatever instance writes it (migration 0600); null once closed. */
  open_key: string | null;
}

export interface RuleAlarmTransitionsTable {
  seq: Generated<number>;
  alarm_id: string;
  version: number;
  at: number;
  event: string;
  from_state: string | null;
  to_state: string;
  severity: string;
  cause: string;
  actor: string | null;
  comment: string | null;
  value: number | null;
}

export interface RuleStateTable {
  rule_id: string;
  subject: string;
  /** JSON. */
  data: string;
  updated_at: number;
}

export interface AlarmTables {
  rule_alarms: RuleAlarmsTable;
  rule_alarm_transitions: RuleAlarmTransitionsTable;
  rule_state: RuleStateTable;
}
