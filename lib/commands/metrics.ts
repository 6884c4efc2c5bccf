// The commands' metrics: how commands end (by transport and final state),
// how long confirmations take, and how many sends it took.
import { counter, histogram } from '../ops/metrics';

export const commandsFinished = counter(
  'sensflow_commands_total',
  'Actuator commands by transport (mqtt, eot) and final state (confirmed, timeout, expired, rejected)',
  ['transport', 'state'],
);

export const commandSends = counter(
  'sensflow_command_sends_total',
  'Orders sent, retries included, by transport',
  ['transport'],
);

export const confirmationSeconds = histogram(
  'sensflow_command_confirmation_seconds',
  'Seconds from the first send of a command to its last confirmation, by transport',
  ['transport'],
  [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
);
