// A simulated shutter module on MQTT (topics.md): it takes orders on
// `<base>/shutter/command` and, when an order is for it (dest `all` or its
// unitID), echoes its status on `<base>/shutter`. Tests make it slow, deaf to
// the first orders, or silent.
import mqtt, { MqttClient } from 'mqtt';

export interface ShutterOptions {
  id: string;
  base: string;
  /** The module kind it answers for; `shutter` by default (`device` for the device itself). */
  kind?: string;
  username?: string;
  password?: string;
  /** Wait before the echo. */
  delayMs?: number;
  /** Orders to leave unanswered before answering. */
  ignore?: number;
  /** The echo also waits for this (a test resolves it once the broker is
   *  down, so that the echo is lost whatever the machine's load). */
  hold?: Promise<unknown>;
}

const STATUS: Record<string, string> = { up: 'open', down: 'closed', stop: 'half' };

export class SimulatedShutter {
  readonly received: Array<{ order: unknown; dest: unknown }> = [];
  /** Echoes not sent because the broker was down. */
  lost = 0;
  /** Orders still to leave unanswered (Infinity: never answer). */
  ignore: number;
  private constructor(
    readonly client: MqttClient,
    private readonly options: ShutterOptions,
  ) {
    this.ignore = options.ignore ?? 0;
  }

  static async start(url: string, options: ShutterOptions): Promise<SimulatedShutter> {
    const client = await mqtt.connectAsync(url, {
      clientId: `shutter-${options.id}-${process.pid}`,
      username: options.username,
      password: options.password,
      reconnectPeriod: 100,
      connectTimeout: 2_000,
    });
    const shutter = new SimulatedShutter(client, options);
    client.on('message', (topic, payload) => shutter.order(topic, payload));
    await client.subscribeAsync(`${options.base}/${options.kind ?? 'shutter'}/command`, {
      qos: 1,
    });
    return shutter;
  }

  /** Orders for this unit so far. */
  get orders(): number {
    return this.received.filter((o) => o.dest === 'all' || o.dest === this.options.id).length;
  }

  private order(_topic: string, payload: Buffer): void {
    const order = JSON.parse(payload.toString()) as { order: unknown; dest: unknown };
    this.received.push(order);
    if (order.dest !== 'all' && order.dest !== this.options.id) return;
    if (this.ignore > 0) {
      this.ignore -= 1;
      return;
    }
    const echo = JSON.stringify({
      order: 'idle',
      unitID: this.options.id,
      status: STATUS[String(order.order)] ?? 'unknown',
    });
    const due = new Promise((resolve) => setTimeout(resolve, this.options.delayMs ?? 0));
    void Promise.all([due, this.options.hold]).then(() => {
      // An echo while the broker is down is lost, as on a real module.
      if (this.client.connected)
        this.client.publish(`${this.options.base}/${this.options.kind ?? 'shutter'}`, echo, {
          qos: 1,
        });
      else this.lost += 1;
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
