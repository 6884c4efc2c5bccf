// Node-RED's core mqtt-broker config node as the commands' MqttLink. The
// broker node already owns the connection, its credentials, TLS and
// reconnection, and resubscribes after a reconnection; this adapter adds what
// the commands need on top: a rejection instead of a silent drop while
// disconnected, and a signal on each reconnection (read from the connection
// state the broker reports to its registered users).
import type { NodeStatus } from 'node-red';
import type { MqttLink } from '../../lib/commands/mqtt-transport';

/** The part of the core mqtt-broker node that its users call (10-mqtt.js). */
export interface CoreMqttBroker {
  connected: boolean;
  register(user: BrokerUser): void;
  deregister(user: BrokerUser, done: () => void, autoDisconnect?: boolean): void;
  subscribe(
    topic: string,
    options: { qos: number },
    callback: (topic: string, payload: Buffer) => void,
    ref: string,
  ): void;
  unsubscribe(topic: string, ref: string, removeClientSubscription?: boolean): void;
  publish(
    msg: { topic: string; payload: string; qos: number; retain: boolean },
    done: (err?: Error) => void,
  ): void;
}

/** What the broker node keeps per user: it calls status() on every connection change. */
export interface BrokerUser {
  id: string;
  status(status: NodeStatus): void;
}

export interface CoreBrokerLink extends MqttLink {
  /** Deregisters (disconnecting the broker when it was the last user and `removed`). */
  close(removed: boolean): Promise<void>;
}

export function coreBrokerLink(
  broker: CoreMqttBroker,
  ownerId: string,
  onChange: (connected: boolean) => void,
): CoreBrokerLink {
  const listeners = new Set<() => void>();
  let connected = broker.connected;
  const user: BrokerUser = {
    id: ownerId,
    status: () => {
      if (broker.connected === connected) return;
      connected = broker.connected;
      onChange(connected);
      if (connected) for (const listener of listeners) listener();
    },
  };
  broker.register(user);
  return {
    isConnected: () => broker.connected,
    onConnect(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    publish(topic, payload) {
      // The broker node drops a publish while disconnected without calling back.
      if (!broker.connected) return Promise.reject(new Error('the MQTT broker is not connected'));
      return new Promise((resolve, reject) =>
        broker.publish({ topic, payload, qos: 1, retain: false }, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
    },
    async subscribe(filter, onMessage) {
      // Mosquitto handles one connection's packets in order, so an order
      // published after this cannot be answered before the subscription is in
      // place. aedes handles the packets of one socket read together: there
      // the margin is the answer's round trip through another client.
      broker.subscribe(filter, { qos: 1 }, onMessage, ownerId);
      return () => broker.unsubscribe(filter, ownerId, true);
    },
    close(removed) {
      return new Promise((resolve) => broker.deregister(user, () => resolve(), removed));
    },
  };
}
