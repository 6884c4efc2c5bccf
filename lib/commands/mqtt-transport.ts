// Orders over MQTT (topics.md): `{"order", "dest"}` published with QoS 1 to
// `<base>/<kind>/command`; a unit confirms with a status echo on `<base>/<kind>`
// that names its `unitID`. The connection is behind MqttLink, so the same
// transport runs on an mqtt.js client or on Node-RED's core mqtt-broker node.
import type { MqttClient } from 'mqtt';
import { CommandTransport, OrderRefused, OutgoingOrder } from './transport';
import type { CommandTarget, Incoming } from './types';

export interface MqttLink {
  isConnected(): boolean;
  /** Calls `listener` on every (re)connection; returns the unsubscribe. */
  onConnect(listener: () => void): () => void;
  /** Publishes with QoS 1; resolves on PUBACK. */
  publish(topic: string, payload: string): Promise<void>;
  /** Subscribes with QoS 1; resolves (once the broker has it) with the unsubscribe. */
  subscribe(
    filter: string,
    onMessage: (topic: string, payload: Buffer) => void,
  ): Promise<() => void>;
}

export function commandTopic(target: { base: string; kind: string }): string {
  return `${target.base}/${target.kind}/command`;
}

export function echoTopic(target: { base: string; kind: string }): string {
  return `${target.base}/${target.kind}`;
}

export class MqttCommandTransport implements CommandTransport {
  constructor(private readonly link: MqttLink) {}

  reaches(target: CommandTarget): boolean {
    return target.transport === 'mqtt';
  }

  isReady(): boolean {
    return this.link.isConnected();
  }

  onReady(listener: () => void): () => void {
    return this.link.onConnect(listener);
  }

  async send(order: OutgoingOrder): Promise<void> {
    const target = mqttOnly(order.target);
    // The ledger is the queue: an order never waits in the client's own
    // offline queue, where a restart would lose it.
    if (!this.link.isConnected()) throw new Error('the MQTT broker is not connected');
    try {
      await this.link.publish(
        commandTopic(target),
        JSON.stringify({ order: order.order, dest: order.dest }),
      );
    } catch (err) {
      // MQTT 5 PUBACK reason codes from 0x80 up: the broker refused it for good.
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'number' && code >= 0x80) {
        throw new OrderRefused(`the broker refused the order (reason code ${code})`);
      }
      throw err;
    }
  }

  listen(target: CommandTarget, onMessage: (message: Incoming) => void): Promise<() => void> {
    const mqtt = mqttOnly(target);
    return this.link.subscribe(echoTopic(mqtt), (topic, payload) =>
      onMessage(readEcho(target, topic, payload)),
    );
  }
}

/** A message on an echo topic; an echo when it is a JSON object naming a unitID. */
export function readEcho(target: CommandTarget, topic: string, raw: Buffer | string): Incoming {
  const text = raw.toString();
  let payload: unknown = text;
  try {
    payload = JSON.parse(text);
  } catch {
    // Not JSON: heard (output 2) but confirms nothing.
    return { target, topic, payload };
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { target, topic, payload };
  }
  const fields = payload as Record<string, unknown>;
  const unitId = fields.unitID;
  if (typeof unitId !== 'string' && typeof unitId !== 'number') return { target, topic, payload };
  return {
    target,
    topic,
    payload,
    echo: { unitId: String(unitId), status: 'status' in fields ? fields.status : payload },
  };
}

function mqttOnly(target: CommandTarget) {
  if (target.transport !== 'mqtt') {
    throw new Error(`the MQTT transport cannot reach an ${target.transport} target`);
  }
  return target;
}

/** An MqttLink on an mqtt.js client (services and tests). */
export function mqttJsLink(client: MqttClient): MqttLink {
  return {
    isConnected: () => client.connected,
    onConnect(listener) {
      client.on('connect', listener);
      return () => client.off('connect', listener);
    },
    async publish(topic, payload) {
      await client.publishAsync(topic, payload, { qos: 1 });
    },
    async subscribe(filter, onMessage) {
      const handler = (topic: string, payload: Buffer) => {
        if (topic === filter) onMessage(topic, payload);
      };
      client.on('message', handler);
      await client.subscribeAsync(filter, { qos: 1 });
      return () => {
        client.off('message', handler);
        client.unsubscribe(filter);
      };
    },
  };
}
