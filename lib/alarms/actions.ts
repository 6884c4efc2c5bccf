// Actuator commands a rule sends when its alarm is raised or cleared by its
// condition, shaped for the actuator-command node's input, and the check
// that keeps them inside the alarm's customer.
import type { Facts } from './compile';
import type { DeviceFacts } from './device-facts';
import type { ActionSpec } from './format';
import type { Alarm } from './lifecycle';

/** One command, as the alarm-rules node sends it on its second output. */
export interface ActuatorCommand {
  /** The order, as actuator-command and devices expect it (topics.md). */
  payload: { order: string | number; dest: string };
  /** MQTT targets: `<base>/<kind>/command`, so core `mqtt out` works too. */
  topic?: string;
  /** A module kind at a base topic (MQTT), or an EOT device. */
  target: { base: string; kind: string } | { deviceId: string };
  /** Sends a command at most once even when replayed. */
  idempotencyKey: string;
  on: 'raise' | 'clear';
  alarm: Alarm;
}

export type ActionOutcome = { command: ActuatorCommand } | { refused: string; action: ActionSpec };

/** Builds a rule's commands for one transition and checks each target. */
export async function commandsFor(
  actions: ActionSpec[],
  on: 'raise' | 'clear',
  alarm: Alarm,
  facts: Facts,
  registry: DeviceFacts | undefined,
): Promise<ActionOutcome[]> {
  const outcomes: ActionOutcome[] = [];
  for (const [i, action] of actions.entries()) {
    if (action.on !== on) continue;
    const refusal = await refusalOf(action, alarm, facts, registry);
    if (refusal) {
      outcomes.push({ refused: refusal, action });
      continue;
    }
    const common = {
      payload: { order: action.order, dest: action.dest ?? 'all' },
      idempotencyKey: `${alarm.id}:${alarm.version}:${i}`,
      on,
      alarm,
    };
    if (action.target.deviceId) {
      outcomes.push({ command: { ...common, target: { deviceId: action.target.deviceId } } });
    } else {
      const base = action.target.location ?? (facts.location as string);
      const kind = action.target.kind!;
      outcomes.push({
        command: { ...common, topic: `${base}/${kind}/command`, target: { base, kind } },
      });
    }
  }
  return outcomes;
}

async function refusalOf(
  action: ActionSpec,
  alarm: Alarm,
  facts: Facts,
  registry: DeviceFacts | undefined,
): Promise<string | null> {
  const owner = alarm.customerId;
  if (action.target.deviceId) {
    if (!registry) return null;
    const device = await registry.device(action.target.deviceId);
    if (!device) return `no device ${action.target.deviceId}`;
    if (device.customerId !== owner)
      return `device ${device.id} belongs to another customer than the alarm's`;
    return null;
  }
  const base = action.target.location ?? facts.location;
  if (typeof base !== 'string') return 'the reading has no location and the action names none';
  if (!registry) return null;
  const customers = await registry.customersOf(base);
  const others = [...customers].filter((c) => c !== owner);
  if (others.length > 0) return `${base} holds devices of another customer than the alarm's`;
  return null;
}
