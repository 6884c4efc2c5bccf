// broker-in: the core `mqtt in` node's messages, taken from Sensflow's
// embedded broker in this process when the mqtt-broker config node points at
// it (no loopback socket, no second MQTT parse), else through the config
// node's own connection as `mqtt in` does (an external broker, a stock Node-RED).
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { inProcessBroker, InProcessMessage } from '../../lib/broker/in-process';
import { decodePayload, PAYLOAD_TYPES, PayloadType } from '../../lib/broker/payload';
import { filterProblem } from '../../lib/topics/validate';
import { errorMessage } from '../../lib/util/log';

interface BrokerInDef extends NodeDef {
  broker: string;
  topic: string;
  qos: string;
  datatype: string;
}

/** What broker-in uses of Node-RED's mqtt-broker config node (10-mqtt.js). */
interface MqttBrokerNode extends Node {
  broker: string;
  port: number | string;
  register(user: Node): void;
  deregister(user: Node, done: () => void, autoDisconnect: boolean): void;
  subscribe(
    topic: string,
    options: { qos: number },
    callback: (topic: string, payload: Buffer, packet: { qos?: number; retain?: boolean }) => void,
    ref: string,
  ): void;
  unsubscribe(topic: string, ref: string, removeClientSubscription: boolean): void;
}

type Deliver = (message: InProcessMessage) => void;

export = function (RED: NodeAPI) {
  function BrokerInNode(this: Node, def: BrokerInDef) {
    RED.nodes.createNode(this, def);
    const config = RED.nodes.getNode(def.broker) as MqttBrokerNode | null;
    const topic = String(def.topic ?? '').trim();
    const qos = [0, 1, 2].includes(Number(def.qos)) ? (Number(def.qos) as 0 | 1 | 2) : 0;
    const datatype = (PAYLOAD_TYPES as string[]).includes(def.datatype)
      ? (def.datatype as PayloadType)
      : 'auto-detect';
    const problem = config ? filterProblem(topic) : RED._('broker-in.errors.missing-config');
    if (problem) {
      this.error(`broker-in: ${problem}`);
      this.status({ fill: 'red', shape: 'ring', text: 'broker-in.status.config' });
      return;
    }

    const emit = (message: InProcessMessage) => {
      let payload: unknown;
      try {
        payload = decodePayload(message.payload, datatype);
      } catch (err) {
        this.error(`broker-in: ${errorMessage(err)}`, { topic: message.topic });
        return;
      }
      const { topic: t, qos: q, retain } = message;
      this.send({ topic: t, payload, qos: q, retain } as NodeMessage);
    };

    const embedded = inProcessBroker();
    if (embedded?.serves(String(config!.broker), Number(config!.port))) {
      subscribeInProcess(this, (deliver) => embedded.subscribe(topic, qos, deliver), emit);
    } else {
      subscribeThroughClient(this, config!, topic, qos, emit);
    }
  }

  function subscribeInProcess(
    node: Node,
    subscribe: (deliver: Deliver) => Promise<() => Promise<void>>,
    emit: Deliver,
  ) {
    let closed = false;
    // Nothing goes out once closing began, even before the broker confirms.
    const subscribing = subscribe((message) => {
      if (!closed) emit(message);
    });
    subscribing.then(
      (unsubscribe) => {
        // Closed while subscribing: the subscription must not outlive the node.
        if (closed) return void unsubscribe();
        node.status({ fill: 'green', shape: 'dot', text: 'broker-in.status.in-process' });
      },
      (err: unknown) => {
        node.error(`broker-in: cannot subscribe: ${errorMessage(err)}`);
        node.status({ fill: 'red', shape: 'ring', text: 'broker-in.status.failed' });
      },
    );
    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      subscribing
        .then((unsubscribe) => unsubscribe())
        .catch(() => undefined)
        .finally(done);
    });
  }

  // As the core `mqtt in` node does: the config node connects on the first
  // registered user and sets its status (connecting, connected, disconnected).
  function subscribeThroughClient(
    node: Node,
    config: MqttBrokerNode,
    topic: string,
    qos: 0 | 1 | 2,
    emit: Deliver,
  ) {
    config.register(node);
    config.subscribe(
      topic,
      { qos },
      (t, payload, packet) =>
        emit({
          topic: t,
          payload,
          qos: (packet.qos ?? 0) as 0 | 1 | 2,
          retain: packet.retain ?? false,
        }),
      node.id,
    );
    node.on('close', (removed: boolean, done: () => void) => {
      config.unsubscribe(topic, node.id, removed);
      config.deregister(node, done, removed);
    });
  }

  RED.nodes.registerType('broker-in', BrokerInNode);
};
