// The rule file format (rules/README.md): json-rules-engine conditions with
// alarm metadata per rule. These are the shapes after validation; the JSON
// Schema in rule-schema.ts is what admits them.

export const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'indeterminate'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Higher is more severe: escalation only ever moves up. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.length - SEVERITIES.indexOf(severity);
}

/** json-rules-engine conditions, as written in a file. */
export type ConditionJson =
  | { all: ConditionJson[]; priority?: number; name?: string }
  | { any: ConditionJson[]; priority?: number; name?: string }
  | { not: ConditionJson; priority?: number; name?: string }
  | LeafJson;

export interface LeafJson {
  fact: string;
  operator: string;
  value: unknown;
  path?: string;
  params?: Record<string, unknown>;
  priority?: number;
  name?: string;
}

/** Where an actuator command goes: a module kind at a base topic (the
 *  alarm's own location when none is given), or an EOT device. */
export interface ActionTarget {
  kind?: string;
  location?: string;
  deviceId?: string;
}

export interface ActionSpec {
  on: 'raise' | 'clear';
  target: ActionTarget;
  order: string | number;
  /** Which unit at the target (topics.md): `all` by default. */
  dest?: string;
}

export type NotifyChannel = 'dashboard' | 'eot';

export interface EscalationSpec {
  severity: Severity;
  /** Escalate when the alarm is still active and unacknowledged this long after it was raised. */
  after?: string | number;
  /** Escalate when this condition holds on a reading while the alarm is active. */
  when?: ConditionJson;
}

export interface RuleSpec {
  name: string;
  alarm: string;
  severity: Severity;
  description?: string;
  priority?: number;
  /** One alarm per device (default when the reading names one) or per location. */
  per?: 'device' | 'location';
  conditions: ConditionJson;
  clear?: ConditionJson;
  hysteresis?: number;
  for?: string | number;
  repeat?: number;
  escalate?: EscalationSpec[];
  actions?: ActionSpec[];
  notify?: NotifyChannel[];
}

export interface RuleFileJson {
  description?: string;
  rules: RuleSpec[];
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
export const DURATION_PATTERN = '^[0-9]+(\\.[0-9]+)?(ms|s|m|h|d)$';

/** `10m`, `1.5h`, `500ms`, or a number of milliseconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$/.exec(value);
  if (!match) throw new Error(`"${value}" is not a duration (e.g. 30s, 10m, 1h)`);
  return Math.round(Number(match[1]) * UNITS[match[2]]);
}
