// Alarm metrics on /metrics: active alarms by severity, transitions, how long
// a reading's evaluation takes, readings ignored and actions refused.
import { counter, gauge, histogram } from '../ops/metrics';
import { SEVERITIES } from './format';

const active = gauge('sensflow_alarms_active', 'Active rule alarms by severity', ['severity']);

export const alarmMetrics = {
  transitions: counter('sensflow_alarm_transitions_total', 'Alarm transitions by event', ['event']),
  evaluation: histogram(
    'sensflow_alarm_evaluation_seconds',
    'Time to evaluate the alarm rules for one reading',
    [],
    [0.000005, 0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05],
  ),
  ignored: counter('sensflow_alarm_readings_ignored_total', 'Readings ignored by alarm rules', [
    'reason',
  ]),
  refused: counter(
    'sensflow_alarm_actions_refused_total',
    'Rule actions refused (target in another customer or unknown)',
  ),
  conditionErrors: counter(
    'sensflow_alarm_condition_errors_total',
    'Conditions that threw while evaluated (counted as false)',
  ),
  writeErrors: counter(
    'sensflow_alarm_write_errors_total',
    'Failed writes of alarms or rule state',
  ),
  setActive(counts: Map<string, number>): void {
    for (const severity of SEVERITIES) active.set({ severity }, counts.get(severity) ?? 0);
  },
};
