// Devices publish their status to `<base>/device` (topics.md); this listener
// turns each one into a sign of life (last_seen, last_status). `#/device` is
// not a valid filter, so it subscribes `+/device`, `+/+/device`, … one filter
// per depth a base topic may have. Retained statuses are old news and skipped.
// With several instances, the filters are shared subscriptions
// (`$share/<group>/…`, Mosquitto 2): the broker hands each status to one of
// them, so it is recorded once.
import mqtt, { MqttClient } from 'mqtt';
import { redactUrl } from '../config/parse';
import type { Clock } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import type { DeviceDirectory, DeviceInfo } from './directory';
import { MAX_LOCATION_LEVELS } from './validation';

/** `+/device` … with one `+` per level, up to the deepest base topic allowed. */
export function statusFilters(maxLevels = MAX_LOCATION_LEVELS): string[] {
  return Array.from({ length: maxLevels }, (_, i) => `${'+/'.repeat(i + 1)}device`);
}

/** Which of the devices sharing a base topic sent a status: the only one, or
 *  the one the status names (`deviceId`, `id` or `unitID`). */
export function senderOf(
  devices: DeviceInfo[],
  status: Record<string, unknown>,
): DeviceInfo | null {
  const enabled = devices.filter((d) => d.enabled);
  if (enabled.length === 1) return enabled[0];
  const named = [status.deviceId, status.id, status.unitID].find((v) => typeof v === 'string');
  return enabled.find((d) => d.id === named) ?? null;
}

export interface StatusListenerOptions {
  url: string;
  username?: string;
  password?: string;
  directory: Pick<DeviceDirectory, 'devicesAt' | 'markSeen'>;
  clock: Clock;
  logger: Logger;
  /** Subscribe as a member of this shared-subscription group. */
  shareGroup?: string;
}

export class StatusListener {
  private readonly client: MqttClient;

  constructor(private readonly options: StatusListenerOptions) {
    this.client = mqtt.connect(options.url, {
      username: options.username,
      password: options.password,
      clientId: `sensflow-liveness-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      reconnectPeriod: 2000,
      connectTimeout: 5000,
    });
    this.client.on('connect', () => {
      const group = options.shareGroup;
      const filters = statusFilters().map((f) => (group ? `$share/${group}/${f}` : f));
      this.client.subscribe(filters, { qos: 0 }, (err) => {
        if (err) options.logger.warn(`device status: cannot subscribe: ${errorMessage(err)}`);
      });
    });
    this.client.on('error', (err) =>
      options.logger.debug(`device status ${redactUrl(options.url)}: ${errorMessage(err)}`),
    );
    this.client.on('message', (topic, payload, packet) => {
      if (packet.retain) return;
      this.handle(topic, payload).catch((err: unknown) =>
        options.logger.warn(`device status on ${topic}: ${errorMessage(err)}`),
      );
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Records the status published on `topic` (`<base>/device`). */
  async handle(topic: string, payload: Buffer): Promise<void> {
    const base = topic.slice(0, -'/device'.length);
    let status: unknown;
    try {
      status = JSON.parse(payload.toString('utf8'));
    } catch {
      status = undefined;
    }
    if (typeof status !== 'object' || status === null || Array.isArray(status)) {
      this.options.logger.debug(`device status on ${topic} is not a JSON object: ignored`);
      return;
    }
    const devices = await this.options.directory.devicesAt(base);
    const sender = senderOf(devices, status as Record<string, unknown>);
    if (!sender) {
      this.options.logger.debug(`device status on ${topic}: no single device there, ignored`);
      return;
    }
    await this.options.directory.markSeen(sender.id, this.options.clock.now(), status);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
