// What a simulated MQTT device does, read from the registry: the sensors it
// publishes (its configuration's `simulate.sensors`, else the kinds given),
// the actuators it obeys (the kinds its device type lists orders for), and
// how each sensor's value moves (a slow wave around a mean, with noise).
import type { DeviceInfo } from '../registry/directory';

export interface SensorProfile {
  kind: string;
  /** `value_units` in the payload (topics.md). */
  unit: string;
  mean: number;
  /** Half the wave's height. */
  swing: number;
  periodS: number;
  noise: number;
  digits: number;
}

export interface MqttDeviceProfile {
  id: string;
  /** The device's base topic (its registry location). */
  base: string;
  sensors: SensorProfile[];
  /** Kinds of actuator modules it obeys, besides the device itself. */
  actuators: string[];
  /** Publish readings retained, so a subscriber gets the last one at once. */
  retain: boolean;
}

type Wave = Omit<SensorProfile, 'kind'>;

const WAVES: Record<string, Wave> = {
  temperature: { unit: 'celsius', mean: 21, swing: 1.5, periodS: 1800, noise: 0.1, digits: 1 },
  humidity: { unit: 'percent', mean: 45, swing: 8, periodS: 2400, noise: 0.5, digits: 0 },
  co2: { unit: 'ppm', mean: 650, swing: 200, periodS: 900, noise: 10, digits: 0 },
  luminosity: { unit: 'lux', mean: 320, swing: 250, periodS: 1200, noise: 5, digits: 0 },
  sound: { unit: 'dB', mean: 45, swing: 10, periodS: 600, noise: 2, digits: 0 },
  energy: { unit: 'Wh', mean: 120, swing: 60, periodS: 900, noise: 5, digits: 0 },
};
const OTHER: Wave = { unit: '', mean: 50, swing: 10, periodS: 900, noise: 1, digits: 1 };

export const KINDS_BY_DEFAULT = ['temperature'];

/** A sensor of `kind`, its wave overridden by `tuning` (mean, swing, period, noise). */
export function sensorProfile(kind: string, tuning: Record<string, unknown> = {}): SensorProfile {
  const wave = { ...(WAVES[kind] ?? OTHER) };
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  wave.mean = num(tuning.mean) ?? wave.mean;
  wave.swing = num(tuning.swing) ?? wave.swing;
  wave.periodS = Math.max(1, num(tuning.period) ?? wave.periodS);
  wave.noise = num(tuning.noise) ?? wave.noise;
  if (typeof tuning.unit === 'string') wave.unit = tuning.unit;
  return { kind, ...wave };
}

/** The value at `elapsedS` after the start: the wave rises from its mean first. */
export function sensorValue(p: SensorProfile, elapsedS: number, random: () => number): number {
  const wave = p.mean + p.swing * Math.sin((2 * Math.PI * elapsedS) / p.periodS);
  let value = wave + p.noise * (random() * 2 - 1);
  if (p.kind !== 'temperature') value = Math.max(0, value);
  const scale = 10 ** p.digits;
  return Math.round(value * scale) / scale;
}

/**
 * The simulation of a registered device. Its configuration may say
 * `{"simulate": {"sensors": ["temperature", "co2"], "retain": true}}`, or
 * tune a sensor: `{"sensors": {"co2": {"mean": 1000, "swing": 250, "period": 600}}}`.
 */
export function profileOf(
  device: Pick<DeviceInfo, 'id' | 'location' | 'config'>,
  orders: Record<string, string[]> | null,
  defaultKinds: string[] = KINDS_BY_DEFAULT,
): MqttDeviceProfile {
  const simulate = simulateSection(device.config) ?? {};
  const actuators = orders ? Object.keys(orders).filter((k) => k !== 'device') : [];
  const listed = simulate.sensors;
  let sensors: SensorProfile[];
  if (Array.isArray(listed)) {
    sensors = listed.filter((k): k is string => typeof k === 'string').map((k) => sensorProfile(k));
  } else if (listed !== null && typeof listed === 'object') {
    sensors = Object.entries(listed as Record<string, unknown>).map(([kind, tuning]) =>
      sensorProfile(
        kind,
        tuning !== null && typeof tuning === 'object' ? (tuning as Record<string, unknown>) : {},
      ),
    );
  } else {
    // An actuator without a sensor list stays an actuator.
    sensors = actuators.length > 0 ? [] : defaultKinds.map((k) => sensorProfile(k));
  }
  return {
    id: device.id,
    base: device.location,
    sensors,
    actuators,
    retain: simulate.retain === true,
  };
}

/** The `simulate` section of a device's configuration, when it has one. */
export function simulateSection(config: unknown): Record<string, unknown> | undefined {
  if (config === null || typeof config !== 'object') return undefined;
  const section = (config as Record<string, unknown>).simulate;
  return section !== null && typeof section === 'object' && !Array.isArray(section)
    ? (section as Record<string, unknown>)
    : undefined;
}

/** `eot` when the device's configuration says `"transport": "eot"`, else `mqtt`. */
export function transportOf(config: unknown): 'mqtt' | 'eot' {
  return config !== null &&
    typeof config === 'object' &&
    (config as Record<string, unknown>).transport === 'eot'
    ? 'eot'
    : 'mqtt';
}
