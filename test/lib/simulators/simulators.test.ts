// Simulated MQTT devices (topics.md) on Sensflow's embedded broker: their
// profile from the registry, the payloads they publish, the orders they obey
// and echo, and new credentials when the broker refuses the old ones.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { MqttClient } from 'mqtt';
import { EmbeddedBroker, Principal } from '../../../lib/broker/embedded-broker';
import { MqttFleet, selectDevices } from '../../../lib/simulators/fleet';
import { SimulatedMqttDevice, statusOf } from '../../../lib/simulators/mqtt-device';
import { profileOf, sensorProfile, sensorValue } from '../../../lib/simulators/profile';
import type { DeviceInfo } from '../../../lib/registry/directory';
import { systemClock } from '../../../lib/util/clock';
import { silentLogger } from '../../../lib/util/log';
import { freePort, waitFor } from '../../support/net';

const device = (id: string, location: string, config: unknown = {}): DeviceInfo => ({
  id,
  type: 't',
  customerId: 'acme',
  location,
  enabled: true,
  uidType: 'other',
  uid: null,
  description: '',
  config,
  lastSeen: null,
  lastStatus: null,
  outdatedAfterMs: 60_000,
});

describe('simulated device profiles', () => {
  it('take sensors from the configuration and actuators from the type', () => {
    const env = profileOf(
      device('env', 'u4/300', {
        simulate: { sensors: { co2: { mean: 1000, swing: 250, period: 600 } }, retain: true },
      }),
      { device: ['reboot'] },
    );
    assert.deepEqual(env.actuators, []);
    assert.equal(env.retain, true);
    assert.deepEqual(env.sensors, [
      { kind: 'co2', unit: 'ppm', mean: 1000, swing: 250, periodS: 600, noise: 10, digits: 0 },
    ]);
    const shutter = profileOf(device('s', 'u4/300'), {
      shutter: ['up', 'down', 'stop'],
      device: ['reboot'],
    });
    assert.deepEqual(shutter.actuators, ['shutter']);
    assert.deepEqual(shutter.sensors, [], 'an actuator without a sensor list has no sensors');
    const plain = profileOf(
      device('p', 'u4/300', { simulate: { sensors: ['humidity', 7] } }),
      null,
    );
    assert.deepEqual(
      plain.sensors.map((s) => s.kind),
      ['humidity'],
    );
    assert.deepEqual(
      profileOf(device('q', 'u4/300'), null, ['sound']).sensors.map((s) => s.kind),
      ['sound'],
    );
  });

  it('move values along a bounded wave, rising from the mean first', () => {
    const co2 = sensorProfile('co2', { mean: 1000, swing: 250, period: 600, noise: 0 });
    assert.equal(
      sensorValue(co2, 0, () => 0.5),
      1000,
    );
    assert.equal(
      sensorValue(co2, 150, () => 0.5),
      1250,
    );
    assert.equal(
      sensorValue(co2, 450, () => 0.5),
      750,
    );
    const t = sensorProfile('temperature');
    for (let s = 0; s < 4000; s += 97) {
      const v = sensorValue(t, s, Math.random);
      assert.ok(v >= 21 - 1.6 && v <= 21 + 1.6, `${v}`);
    }
    assert.ok(sensorValue(sensorProfile('humidity', { mean: 0, swing: 5 }), 450, () => 0) >= 0);
    assert.equal(statusOf('shutter', 'up'), 'open');
    assert.equal(statusOf('shutter', 'down'), 'closed');
    assert.equal(statusOf('lighting', 40), '40');
  });
});

describe('simulated MQTT devices', function () {
  this.timeout(30_000);
  let broker: EmbeddedBroker;
  let url: string;
  let observer: MqttClient;
  const heard: Array<{ topic: string; body: Record<string, unknown>; retain: boolean }> = [];
  /** The password the broker takes from each device now. */
  const passwords = new Map<string, string>();
  let issued = 0;

  before(async () => {
    const port = await freePort();
    broker = await EmbeddedBroker.start({
      dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-sim-broker-')),
      host: '127.0.0.1',
      port,
      policy: {
        async authenticate(username, password): Promise<Principal | null> {
          if (username === 'observer') return { username, service: true };
          return username && passwords.get(username) === password?.toString() ? { username } : null;
        },
        canPublish: () => true,
        canSubscribe: () => true,
      },
      logger: silentLogger,
    });
    url = `mqtt://127.0.0.1:${port}`;
    observer = await mqtt.connectAsync(url, { username: 'observer', password: 'x' });
    observer.on('message', (topic, payload, packet) =>
      heard.push({
        topic,
        body: JSON.parse(payload.toString()) as Record<string, unknown>,
        retain: packet.retain,
      }),
    );
    await observer.subscribeAsync('#');
  });
  after(async () => {
    await observer?.endAsync(true);
    await broker?.close();
  });

  const credentials = (id: string) => async () => {
    const password = `pw-${++issued}`;
    passwords.set(id, password);
    return { login: id, password };
  };

  it('publish readings and statuses with their own login, obey orders for them and echo', async () => {
    const sim = new SimulatedMqttDevice({
      url,
      profile: {
        ...profileOf(device('shut-1', 'u4/300', { simulate: { sensors: ['temperature'] } }), {
          shutter: ['up', 'down', 'stop'],
        }),
      },
      credentials: credentials('shut-1'),
      readingEveryMs: 100,
      statusEveryMs: 200,
      echoDelayMs: 10,
      clock: systemClock,
      logger: silentLogger,
    });
    await sim.start();
    try {
      const reading = await waitFor(async () => {
        const r = heard.find((h) => h.topic === 'u4/300/temperature');
        assert.ok(r);
        return r;
      }, 5000);
      assert.deepEqual(Object.keys(reading.body).sort(), ['unitID', 'value', 'value_units']);
      assert.equal(reading.body.unitID, 'shut-1');
      assert.equal(reading.body.value_units, 'celsius');
      assert.equal(reading.retain, false);
      const status = heard.find((h) => h.topic === 'u4/300/device')!;
      assert.equal(status.body.unitID, 'shut-1');
      assert.equal(status.body.sensors, 1);
      assert.match(String(status.body.firmware), /sim/);

      await observer.publishAsync(
        'u4/300/shutter/command',
        JSON.stringify({ order: 'up', dest: 'someone-else' }),
      );
      await observer.publishAsync(
        'u4/300/lighting/command',
        JSON.stringify({ order: 'on', dest: 'all' }),
      );
      await observer.publishAsync(
        'u4/300/shutter/command',
        JSON.stringify({ order: 'down', dest: 'all' }),
      );
      const echo = await waitFor(async () => {
        const e = heard.find((h) => h.topic === 'u4/300/shutter');
        assert.ok(e);
        return e;
      }, 5000);
      assert.deepEqual(echo.body, { order: 'idle', unitID: 'shut-1', status: 'closed' });
      await waitFor(
        async () => assert.equal(sim.counts.orders, 1, 'only its own kind and dest'),
        1000,
      );
      assert.equal(heard.filter((h) => h.topic === 'u4/300/shutter').length, 1);
      assert.equal(heard.filter((h) => h.topic === 'u4/300/lighting').length, 0);

      await observer.publishAsync(
        'u4/300/device/command',
        JSON.stringify({ order: 'reboot', dest: 'shut-1' }),
      );
      await waitFor(async () => {
        assert.ok(heard.some((h) => h.topic === 'u4/300/device' && h.body.status === 'rebooted'));
      }, 5000);
    } finally {
      await sim.stop();
    }
  });

  it('get new credentials when the broker refuses theirs (after a reinstall)', async () => {
    const sim = new SimulatedMqttDevice({
      url,
      profile: profileOf(
        device('env-9', 'u4/309', { simulate: { sensors: ['co2'], retain: true } }),
        null,
      ),
      credentials: credentials('env-9'),
      readingEveryMs: 100,
      statusEveryMs: 1000,
      clock: systemClock,
      logger: silentLogger,
    });
    await sim.start();
    try {
      await waitFor(async () => assert.equal(sim.connected, true), 5000);
      const before = issued;
      // A reinstall: the registry forgets the password and the broker cuts the session.
      passwords.set('env-9', 'nobody knows');
      broker.disconnect((p) => p.username === 'env-9');
      await waitFor(async () => {
        assert.ok(issued > before, 'asked for new credentials');
        assert.equal(sim.connected, true);
        assert.ok(sim.counts.logins >= 2);
      }, 10_000);
      const from = heard.length;
      await waitFor(async () => {
        assert.ok(
          heard.slice(from).some((h) => h.topic === 'u4/309/co2'),
          'publishes again',
        );
      }, 5000);
      // Published retained: a late subscriber gets the last value at once.
      const late = await mqtt.connectAsync(url, { username: 'observer', password: 'x' });
      const first = new Promise<boolean>((resolve) =>
        late.on('message', (_t, _p, packet) => resolve(packet.retain)),
      );
      await late.subscribeAsync('u4/309/co2');
      assert.equal(await first, true);
      await late.endAsync(true);
    } finally {
      await sim.stop();
    }
  });

  it('run together, chosen from a registry', async () => {
    const registry = {
      listDevices: async ({ customerId }: { customerId?: string }) => {
        const all = [
          device('a', 'b/1', { simulate: {} }),
          device('b', 'b/2', { transport: 'eot', simulate: {} }),
          device('c', 'b/3'),
          { ...device('d', 'b/4', { simulate: {} }), customerId: 'globex' },
        ];
        const items = all.filter((d) => !customerId || d.customerId === customerId);
        return { items, total: items.length };
      },
      types: { list: async () => [{ name: 't', orders: { relay: ['on', 'off'] } }] },
      issueCredentials: (id: string) => credentials(id)(),
    };
    const marked = await selectDevices(registry, { marked: true, transport: 'mqtt' });
    assert.deepEqual(
      marked.map((c) => c.device.id),
      ['a', 'd'],
    );
    assert.deepEqual(
      (await selectDevices(registry, { customers: ['acme'], transport: 'mqtt' })).map(
        (c) => c.device.id,
      ),
      ['a', 'c'],
    );
    assert.deepEqual(
      (await selectDevices(registry, { marked: true, transport: 'eot' })).map((c) => c.device.id),
      ['b'],
    );
    assert.equal((await selectDevices(registry, { transport: 'mqtt', limit: 1 })).length, 1);

    const fleet = new MqttFleet({
      url,
      registry,
      readingEveryMs: 1000,
      statusEveryMs: 1000,
      echoDelayMs: 10,
      clock: systemClock,
      logger: silentLogger,
    });
    await fleet.start(marked);
    try {
      await waitFor(async () => assert.equal(fleet.report().connected, 2), 5000);
      await observer.publishAsync('b/1/relay/command', JSON.stringify({ order: 'on', dest: 'a' }));
      await waitFor(async () => {
        assert.ok(heard.some((h) => h.topic === 'b/1/relay' && h.body.status === 'on'));
        assert.equal(fleet.report().echoes, 1);
      }, 5000);
    } finally {
      await fleet.stop();
    }
  });
});
