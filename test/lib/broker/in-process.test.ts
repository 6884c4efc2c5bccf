// The embedded broker reached in process: retained then live messages at the
// subscriber's QoS, no `$SYS` through wildcards, nothing after unsubscribing,
// and which host and port it answers for; MQTT payloads decoded as Node-RED's
// `mqtt in` does.
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import type { EmbeddedBroker } from '../../../lib/broker/embedded-broker';
import { aedesInProcess, InProcessMessage } from '../../../lib/broker/in-process';
import { decodePayload } from '../../../lib/broker/payload';
import { serviceLogin } from '../../../lib/broker/service-policy';
import { retainedTopics } from '../../support/broker-store';
import { embeddedWithClient } from '../../support/brokers';
import { waitFor } from '../../support/net';

const login = serviceLogin('in-process-test');

describe('in-process broker', function () {
  this.timeout(20_000);
  let broker: EmbeddedBroker;
  let client: MqttClient;
  let close: () => Promise<void>;

  beforeEach(async () => ({ broker, client, close } = await embeddedWithClient(login)));
  afterEach(() => close());

  it('delivers retained messages, then live ones at the lower QoS, until unsubscribed', async () => {
    await client.publishAsync('u4/300/temperature', '{"value":20}', { qos: 1, retain: true });
    await client.publishAsync('u4/301/co2', 'old', { qos: 0, retain: true });
    // The broker may store a retained message after its PUBACK: wait until it holds it.
    await waitFor(
      async () =>
        assert.deepEqual(await retainedTopics(broker.aedes, 'u4/300/temperature'), [
          'u4/300/temperature',
        ]),
      5000,
    );
    const inProcess = aedesInProcess(broker.aedes, '127.0.0.1', broker.ports.tcp);
    const got: InProcessMessage[] = [];
    const unsubscribe = await inProcess.subscribe('+/+/temperature', 0, (m) => got.push(m));
    assert.deepEqual(got.map(shown), [['u4/300/temperature', '{"value":20}', 0, true]]);

    await client.publishAsync('u4/302/temperature', '{"value":21}', { qos: 1 });
    await client.publishAsync('u4/302/humidity', '{"value":40}', { qos: 1 });
    await waitFor(async () => assert.equal(got.length, 2), 5000);
    assert.deepEqual(shown(got[1]), ['u4/302/temperature', '{"value":21}', 0, false]);

    await unsubscribe();
    await client.publishAsync('u4/303/temperature', '{"value":22}', { qos: 1 });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(got.length, 2, 'nothing after unsubscribing');
  });

  it('keeps the publish QoS when lower, and hides $SYS from wildcards', async () => {
    const inProcess = aedesInProcess(broker.aedes, '127.0.0.1', broker.ports.tcp);
    const all: InProcessMessage[] = [];
    const sys: InProcessMessage[] = [];
    const stopAll = await inProcess.subscribe('#', 2, (m) => all.push(m));
    const stopSys = await inProcess.subscribe('$SYS/#', 0, (m) => sys.push(m));
    await client.publishAsync('a/b', 'x', { qos: 1 });
    broker.aedes.publish(
      {
        cmd: 'publish',
        topic: '$SYS/x/heartbeat',
        payload: Buffer.from('1'),
        qos: 0,
        retain: false,
        dup: false,
      },
      () => undefined,
    );
    await waitFor(async () => assert.deepEqual([all.length, sys.length], [1, 1]), 5000);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(all.map(shown), [['a/b', 'x', 1, false]]);
    assert.equal(sys[0].topic, '$SYS/x/heartbeat');
    await stopAll();
    await stopSys();
  });

  it('answers for its port on loopback or its own host only', () => {
    const inProcess = aedesInProcess(broker.aedes, '10.1.2.3', 1883);
    assert.equal(inProcess.serves('127.0.0.1', 1883), true);
    assert.equal(inProcess.serves('localhost', 1883), true);
    assert.equal(inProcess.serves('10.1.2.3', 1883), true);
    assert.equal(inProcess.serves('127.0.0.1', 1884), false);
    assert.equal(inProcess.serves('mosquitto.example', 1883), false);
  });
});

describe('MQTT payloads as mqtt in decodes them', () => {
  const bytes = (s: string) => Buffer.from(s);
  const binary = Buffer.from([0xff, 0xfe, 0x00]);

  it('auto-detect: JSON parsed, other text as a string, other bytes as a Buffer', () => {
    assert.deepEqual(decodePayload(bytes('{"value":1.5,"unitID":"a"}'), 'auto-detect'), {
      value: 1.5,
      unitID: 'a',
    });
    assert.equal(decodePayload(bytes('21.5'), 'auto-detect'), 21.5);
    assert.equal(decodePayload(bytes('on'), 'auto-detect'), 'on');
    assert.equal(decodePayload(binary, 'auto-detect'), binary);
  });

  it('json refuses what is not JSON; utf8 and buffer leave it alone', () => {
    assert.throws(() => decodePayload(bytes('on'), 'json'), /payload is not JSON/);
    assert.throws(() => decodePayload(binary, 'json'), /not UTF-8/);
    assert.equal(decodePayload(bytes('{"a":1}'), 'utf8'), '{"a":1}');
    assert.equal(decodePayload(binary, 'buffer'), binary);
  });
});

function shown(m: InProcessMessage) {
  return [m.topic, m.payload.toString(), m.qos, m.retain];
}
