// Checks what an MQTT login may do on a real broker, seen from a service
// client subscribed to everything: what arrives was allowed, what does not
// was refused (MQTT 3.1.1 brokers drop or disconnect, they cannot say no).
import assert from 'node:assert/strict';
import mqtt, { MqttClient } from 'mqtt';
import { delay } from './net';

export async function connectMqtt(
  url: string,
  options: mqtt.IClientOptions = {},
): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...options,
  });
}

/** A client subscribed to `#` that records what it receives. */
export async function spy(url: string, options: mqtt.IClientOptions) {
  const client = await connectMqtt(url, options);
  const received: string[] = [];
  client.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));
  await client.subscribeAsync('#', { qos: 1 });
  return {
    client,
    received,
    /** Waits until `entry` arrives (or fails after 5 s). */
    async waitFor(entry: string) {
      for (let i = 0; i < 100 && !received.includes(entry); i++) await delay(50);
      assert.ok(received.includes(entry), `never received "${entry}"; got ${received.join(', ')}`);
    },
  };
}

/** Resolves true once the client's connection closes, false after `ms`. */
export function closesWithin(client: MqttClient, ms: number): Promise<boolean> {
  if (!client.connected) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    client.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** The QoS granted for a filter (128 means refused). */
export async function grantedQos(client: MqttClient, filter: string): Promise<number> {
  try {
    const granted = await client.subscribeAsync(filter, { qos: 1 });
    return granted[0].qos;
  } catch (err) {
    // mqtt.js turns a refused filter (SUBACK 0x80) into an error.
    if (/Subscribe error/.test(String(err))) return 128;
    throw err;
  }
}
