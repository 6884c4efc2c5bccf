// Finding the device a message is about, for flows: by its id, or by an MQTT
// topic (`<base>/<kind>`, `<base>/<kind>/command` or `<base>/device`, see
// topics.md). Answers carry a device's public fields only.
import type { DeviceDirectory, DeviceInfo } from './directory';

/** The base topic of a data, order or status topic. */
export function baseOfTopic(topic: string): string | null {
  const levels = topic.split('/');
  const drop = levels[levels.length - 1] === 'command' ? 2 : 1;
  if (levels.length <= drop || levels.some((l) => l === '' || l === '+' || l === '#')) return null;
  return levels.slice(0, -drop).join('/');
}

/** A copy of a JSON value, so a flow changing msg.device cannot change a
 *  cached device. */
function copied(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  // Most devices have an empty configuration: no need for the costly clone.
  if (!Array.isArray(value) && Object.keys(value).length === 0) return {};
  return structuredClone(value);
}

/** Only what DeviceInfo declares: never credential state or other extras;
 *  its objects copied. */
export function publicFields(d: DeviceInfo): DeviceInfo {
  return {
    id: d.id,
    type: d.type,
    customerId: d.customerId,
    location: d.location,
    enabled: d.enabled,
    uidType: d.uidType,
    uid: d.uid,
    description: d.description,
    config: copied(d.config),
    lastSeen: d.lastSeen,
    lastStatus: copied(d.lastStatus),
    outdatedAfterMs: d.outdatedAfterMs,
  };
}

export interface LookupResult {
  /** The device, or null when none (or, for a topic, not exactly one) matches. */
  device: DeviceInfo | null;
  /** For a topic: every device at that base topic. */
  devices?: DeviceInfo[];
}

export async function lookupDevice(
  directory: Pick<DeviceDirectory, 'findDevice' | 'devicesAt'>,
  key: { deviceId?: string; topic?: string },
): Promise<LookupResult> {
  if (key.deviceId !== undefined) {
    const device = await directory.findDevice(key.deviceId);
    return { device: device && publicFields(device) };
  }
  const base = key.topic === undefined ? null : baseOfTopic(key.topic);
  if (base === null) return { device: null, devices: [] };
  const devices = (await directory.devicesAt(base)).map(publicFields);
  return { device: devices.length === 1 ? devices[0] : null, devices };
}
