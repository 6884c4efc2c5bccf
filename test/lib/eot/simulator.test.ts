// The device simulator against a real server: its devices log in both ways,
// answer READ and WRITE like real devices, and count what they send and get.
import assert from 'node:assert/strict';
import { Simulator } from '../../../lib/eot/simulator';
import { credentials, EotFixture, startEot } from '../../support/eot';
import { waitFor } from '../../support/net';

describe('EOT device simulator', () => {
  let eot: EotFixture;
  let simulator: Simulator | undefined;
  afterEach(async () => {
    simulator?.stop();
    await eot?.close();
  });

  it('answers READ with a READING and WRITE with an ACK, and reports logins', async () => {
    eot = await startEot();
    simulator = new Simulator({
      connect: { port: eot.port },
      devices: [
        { ...credentials('lamp-07'), customer: 'acme' },
        { ...credentials('app-3', 'AUTH'), customer: 'acme' },
        { id: 'gx-1', type: 'mkr1000', serial: 'wrong', customer: 'globex' },
      ],
      ratePerDevice: 0,
    });
    await simulator.start();
    const mkr = await eot.device('mkr-01');
    mkr.send({ origin: 'mkr-01', destination: 'lamp-07', type: 'READ', fields: ['temperature'] });
    const reading = await mkr.next();
    assert.deepEqual(
      [reading.origin, reading.type, reading.fields[0], reading.fields[2]],
      ['lamp-07', 'READING', 'temperature', 'C'],
    );
    assert.ok(Number.isFinite(Number(reading.fields[1])));
    mkr.send({ origin: 'mkr-01', destination: 'app-3', type: 'WRITE', fields: ['led', 'on'] });
    assert.deepEqual(await mkr.next(), {
      origin: 'app-3',
      destination: 'mkr-01',
      type: 'ACK',
      fields: ['led', 'on'],
    });
    const report = simulator.report();
    assert.equal(report.loggedIn, 2);
    assert.equal(report.loginFailed, 1);
    assert.deepEqual(report.received, { READ: 1, WRITE: 1 });
  });

  it('sends its mix at the rate and measures message latency between its devices', async () => {
    eot = await startEot();
    const alarms: string[] = [];
    eot.server.on('alarm', (a) => alarms.push(a.deviceId));
    simulator = new Simulator({
      connect: { port: eot.port },
      devices: ['mkr-01', 'lamp-07', 'app-3'].map((id) => ({
        ...credentials(id),
        customer: 'acme',
      })),
      ratePerDevice: 20,
      mix: { reading: 1, event: 1, alarm: 1, msg: 1 },
    });
    await simulator.start();
    await waitFor(async () => {
      const r = simulator!.report();
      for (const type of ['READING', 'EVENT', 'ALARM', 'MSG'])
        assert.ok((r.sent[type] ?? 0) > 0, type);
      assert.ok(r.latencyMs.count > 0);
      assert.ok((r.received.ALARM ?? 0) > 0, 'alarms come back to the subscribed devices');
    }, 10_000);
    const report = simulator.stop();
    assert.deepEqual(report.errors, {});
    assert.ok(report.latencyMs.p99 >= report.latencyMs.p50);
    assert.ok(alarms.length > 0);
  });

  it("acknowledges a person's MSG, and logs in again after the server went away", async () => {
    eot = await startEot();
    simulator = new Simulator({
      connect: { port: eot.port },
      devices: [{ ...credentials('lamp-07'), customer: 'acme' }],
      ratePerDevice: 0,
      reconnectMs: 100,
    });
    await simulator.start();
    const mkr = await eot.device('mkr-01');
    mkr.send({ origin: 'mkr-01', destination: 'lamp-07', type: 'MSG', fields: ['hello'] });
    assert.deepEqual(await mkr.next(), {
      origin: 'lamp-07',
      destination: 'mkr-01',
      type: 'ACK',
      fields: ['MSG', 'received hello'],
    });

    const { port, file, directory, clock } = eot;
    await eot.close();
    await waitFor(async () => assert.equal(simulator!.report().loggedIn, 0), 5000);
    eot = await startEot({ port }, { file, directory, clock });
    await waitFor(async () => assert.equal(simulator!.report().loggedIn, 1), 10_000);
    assert.ok(simulator.report().closedByServer >= 1);
  });
});
