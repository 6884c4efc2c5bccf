// Device status to signs of life: valid per-depth filters (never `#/device`),
// the sender among devices sharing a base topic, and the listener on a real
// embedded broker (retained statuses skipped).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedBroker } from '../../../lib/broker/embedded-broker';
import { serviceLogin, servicePolicy } from '../../../lib/broker/service-policy';
import { MemoryDirectory } from '../../support/memory-directory';
import { senderOf, StatusListener, statusFilters } from '../../../lib/registry/liveness';
import type { DeviceInfo } from '../../../lib/registry/directory';
import { systemClock } from '../../../lib/util/clock';
import { silentLogger } from '../../../lib/util/log';
import { connectMqtt } from '../../support/mqtt-access';
import { delay, waitFor } from '../../support/net';

describe('device liveness', function () {
  this.timeout(20_000);

  it('subscribes one valid filter per depth of base topic', () => {
    const filters = statusFilters(3);
    assert.deepEqual(filters, ['+/device', '+/+/device', '+/+/+/device']);
    assert.equal(statusFilters().length, 16);
    assert.ok(statusFilters().every((f) => !f.includes('#')));
  });

  it('picks the sender among devices sharing a base topic', () => {
    const d = (id: string, enabled = true) => ({ id, enabled }) as DeviceInfo;
    assert.equal(senderOf([d('a')], {})?.id, 'a');
    assert.equal(senderOf([d('a'), d('b', false)], {})?.id, 'a');
    assert.equal(senderOf([d('a'), d('b')], {}), null);
    assert.equal(senderOf([d('a'), d('b')], { deviceId: 'b' })?.id, 'b');
    assert.equal(senderOf([d('a'), d('b')], { unitID: 'a' })?.id, 'a');
    assert.equal(senderOf([], { deviceId: 'a' }), null);
  });

  it('marks the device seen for a status on its base topic, at any depth', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-liveness-'));
    const login = serviceLogin('liveness-secret');
    const broker = await EmbeddedBroker.start({
      dataDir: dir,
      host: '127.0.0.1',
      port: 0,
      policy: servicePolicy(login),
      logger: silentLogger,
    });
    const directory = new MemoryDirectory([
      { id: 'a', customerId: 'acme', location: 'u4/300' },
      { id: 'b', customerId: 'acme', location: 'abroad/carcassonne/b1/12' },
    ]);
    const url = `mqtt://127.0.0.1:${broker.ports.tcp}`;
    const publisher = await connectMqtt(url, login);
    await publisher.publishAsync('u4/300/device', '{"old":true}', { retain: true, qos: 1 });
    // Resolves once the broker holds the listener's subscriptions (before its SUBACK).
    const subscribed = new Promise<void>((resolve) =>
      broker.aedes.on('subscribe', (_subs, client) => {
        if (client.id.startsWith('sensflow-liveness-')) resolve();
      }),
    );
    const listener = new StatusListener({
      url,
      ...login,
      directory,
      clock: systemClock,
      logger: silentLogger,
    });
    try {
      await subscribed;
      await delay(200); // time for the retained status to arrive, and be skipped
      assert.equal((await directory.findDevice('a'))?.lastSeen, null, 'retained status skipped');
      await publisher.publishAsync('u4/300/device', '{"fw":"1"}', { qos: 1 });
      await publisher.publishAsync('abroad/carcassonne/b1/12/device', '{"fw":"2"}', { qos: 1 });
      await publisher.publishAsync('u4/300/temperature', '{"value":1}', { qos: 1 });
      await publisher.publishAsync('u4/301/device', '{"fw":"3"}', { qos: 1 });
      await waitFor(async () => {
        for (const id of ['a', 'b']) assert.ok((await directory.findDevice(id))?.lastSeen, id);
      }, 5000);
      assert.deepEqual((await directory.findDevice('a'))?.lastStatus, { fw: '1' });
      assert.deepEqual((await directory.findDevice('b'))?.lastStatus, { fw: '2' });
    } finally {
      await publisher.endAsync(true);
      await listener.close();
      await broker.close();
    }
  });
});
