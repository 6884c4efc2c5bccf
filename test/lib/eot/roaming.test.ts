// Devices that know several servers: they log in to the first that answers,
// move to the next one when theirs goes away, and subscribe again there.
import assert from 'node:assert/strict';
import { parseServers, RoamingDevice } from '../../../lib/eot/roaming';
import { Simulator } from '../../../lib/eot/simulator';
import { credentials, EotFixture, startEot } from '../../support/eot';
import { freePort, waitFor } from '../../support/net';

describe('roaming EOT devices', function () {
  this.timeout(30_000);
  const fixtures: EotFixture[] = [];
  afterEach(async () => {
    for (const f of fixtures.splice(0)) await f.close().catch(() => undefined);
  });

  it('parses a server list and refuses a bad one', () => {
    assert.deepEqual(parseServers('iot1.example.org:4004, 10.0.0.2:4005,[::1]:4006,4007'), [
      { host: 'iot1.example.org', port: 4004 },
      { host: '10.0.0.2', port: 4005 },
      { host: '::1', port: 4006 },
      { host: '127.0.0.1', port: 4007 },
    ]);
    assert.throws(() => parseServers('iot1.example.org'), /is not host:port/);
    assert.throws(() => parseServers('a:70000'), /is not host:port/);
  });

  it('skips a server that is down and moves on when its server stops', async () => {
    const dead = await freePort();
    const a = await startEot();
    const b = await startEot();
    fixtures.push(a, b);
    const device = new RoamingDevice({
      servers: [
        { host: '127.0.0.1', port: dead },
        { host: '127.0.0.1', port: a.port },
        { host: '127.0.0.1', port: b.port },
      ],
      device: credentials('lamp-07'),
      backoff: { initialMs: 10, maxMs: 50 },
    });
    const logins: number[] = [];
    device.on('login', (_client, server) => logins.push(server.port));
    try {
      assert.equal(await device.start(), true);
      assert.deepEqual(logins, [a.port]);
      await a.server.stop();
      await waitFor(async () => assert.deepEqual(logins, [a.port, b.port]), 10_000);
      assert.ok(b.server.isOnline('lamp-07'));
      assert.equal(device.logins, 2);
    } finally {
      device.stop();
    }
  });

  it('simulated devices spread over the servers and come back subscribed after a move', async () => {
    const a = await startEot();
    const b = await startEot();
    fixtures.push(a, b);
    const simulator = new Simulator({
      connect: { port: 0 },
      servers: [
        { host: '127.0.0.1', port: a.port },
        { host: '127.0.0.1', port: b.port },
      ],
      devices: ['mkr-01', 'lamp-07'].map((id) => ({ ...credentials(id), customer: 'acme' })),
      ratePerDevice: 1,
      mix: { reading: 1 },
    });
    try {
      await simulator.start();
      assert.ok(a.server.isOnline('mkr-01') && b.server.isOnline('lamp-07'), 'one on each');
      await a.server.stop();
      // The server counts a device online before the device has read the
      // answer to its login and subscribed again: wait for the device's side.
      await waitFor(async () => {
        assert.ok(b.server.isOnline('mkr-01'));
        const report = simulator.report();
        assert.equal(report.loggedIn, 2);
        assert.equal(report.sent.SUB, 3, 'subscribed again after the move');
      }, 15_000);
      assert.equal(simulator.report().reconnects, 1);
    } finally {
      simulator.stop();
    }
  });
});
