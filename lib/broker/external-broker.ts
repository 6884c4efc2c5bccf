// A service connection to an external broker (SENSFLOW_MQTT_URL): it tells
// /healthz whether the broker is reachable, and reconnects with backoff, so a
// broker that goes down after start is retried and never crashes the process.
import mqtt, { MqttClient } from 'mqtt';
import { redactUrl } from '../config/parse';
import { backoffDelay } from '../util/backoff';
import { errorMessage, Logger } from '../util/log';

export class ExternalBroker {
  private readonly client: MqttClient;
  private failures = 0;

  constructor(
    readonly url: URL,
    logger: Logger,
    clientId: string,
  ) {
    this.client = mqtt.connect(url.toString(), {
      clientId,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
    });
    this.client.on('connect', () => {
      if (this.failures > 0) logger.info(`MQTT broker ${redactUrl(url)} is back`);
      this.failures = 0;
      this.client.options.reconnectPeriod = 1000;
    });
    this.client.on('close', () => {
      // mqtt.js retries at a fixed period; space the retries out instead.
      this.client.options.reconnectPeriod = backoffDelay(this.failures++, {
        initialMs: 1000,
        maxMs: 30_000,
      });
    });
    this.client.on('error', (err) => {
      if (this.failures <= 1) logger.warn(`MQTT broker ${redactUrl(url)}: ${errorMessage(err)}`);
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  async check(): Promise<void> {
    if (!this.client.connected) throw new Error('not connected');
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
