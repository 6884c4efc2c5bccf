// Frames after login over real sockets: delivery inside a customer only,
// broadcast, origin checks, EVENT and ALARM stored and handed to the flows,
// alarm fan-out to subscribers only, SUB conditions, PING and the idle timeout.
import assert from 'node:assert/strict';
import { Frame } from '../../../lib/eot/codec';
import { DeviceFrame } from '../../../lib/eot/server';
import { EotFixture, startEot } from '../../support/eot';

const f = (origin: string, destination: string, type: string, ...fields: string[]): Frame => ({
  origin,
  destination,
  type,
  fields,
});

describe('EOT routing', () => {
  let eot: EotFixture;
  let flows: DeviceFrame[];
  beforeEach(async () => {
    eot = await startEot();
    flows = [];
    eot.server.on('frame', (frame) => flows.push(frame));
  });
  afterEach(async () => {
    await eot.close();
  });

  it('delivers MSG, READ, READING, WRITE and ACK unchanged to a device of the same customer', async () => {
    const mkr = await eot.device('mkr-01');
    const lamp = await eot.device('lamp-07');
    const sent = [
      f('mkr-01', 'lamp-07', 'MSG', '{"a":"x|y"}'),
      f('mkr-01', 'lamp-07', 'READ', 'temperature'),
      f('mkr-01', 'lamp-07', 'WRITE', 'led', 'on'),
    ];
    for (const frame of sent) mkr.send(frame);
    for (const frame of sent) assert.deepEqual(await lamp.next(), frame);
    lamp.send(f('lamp-07', 'mkr-01', 'READING', 'temperature', '21.5', 'C', ''));
    lamp.send(f('lamp-07', 'mkr-01', 'ACK', 'led', 'on'));
    assert.deepEqual(
      await mkr.next(),
      f('lamp-07', 'mkr-01', 'READING', 'temperature', '21.5', 'C', ''),
    );
    assert.deepEqual(await mkr.next(), f('lamp-07', 'mkr-01', 'ACK', 'led', 'on'));
    assert.deepEqual(
      flows.map((x) => [x.type, x.customer]),
      [
        ['MSG', 'acme'],
        ['READ', 'acme'],
        ['WRITE', 'acme'],
        ['READING', 'acme'],
        ['ACK', 'acme'],
      ],
    );
  });

  it('broadcasts * to every other device of the customer, and to no one else', async () => {
    const mkr = await eot.device('mkr-01');
    const lamp = await eot.device('lamp-07');
    const app = await eot.device('app-3');
    const globex = await eot.device('gx-1');
    mkr.send(f('mkr-01', '*', 'MSG', 'all'));
    assert.deepEqual(await lamp.next(), f('mkr-01', '*', 'MSG', 'all'));
    assert.deepEqual(await app.next(), f('mkr-01', '*', 'MSG', 'all'));
    await mkr.sync();
    await globex.sync();
    assert.deepEqual(mkr.takeReceived(), []);
    assert.deepEqual(globex.takeReceived(), [], 'another customer hears nothing');
  });

  it('refuses a frame to another customer with FORBIDDEN, online or not, and delivers nothing', async () => {
    const mkr = await eot.device('mkr-01');
    const globex = await eot.device('gx-1');
    mkr.send(f('mkr-01', 'gx-1', 'MSG', 'psst'));
    const error = await mkr.next();
    assert.deepEqual([error.type, error.fields[0]], ['ERROR', 'FORBIDDEN']);
    globex.close();
    await globex.whenClosed();
    mkr.send(f('mkr-01', 'gx-1', 'WRITE', 'led', 'on'));
    assert.equal((await mkr.next()).fields[0], 'FORBIDDEN');
    const again = await eot.device('gx-1');
    await again.sync();
    assert.deepEqual(again.takeReceived(), [], 'nothing was queued either');
    assert.deepEqual(flows, []);
  });

  it('refuses a forged origin with ORIGIN_MISMATCH and keeps the connection', async () => {
    const mkr = await eot.device('mkr-01');
    const lamp = await eot.device('lamp-07');
    mkr.send(f('app-3', 'lamp-07', 'MSG', 'I am app-3'));
    const error = await mkr.next();
    assert.deepEqual([error.type, error.fields[0]], ['ERROR', 'ORIGIN_MISMATCH']);
    await lamp.sync();
    assert.deepEqual(lamp.takeReceived(), []);
    await mkr.sync();
  });

  it('answers UNKNOWN_DESTINATION for an id no device has', async () => {
    const mkr = await eot.device('mkr-01');
    mkr.send(f('mkr-01', 'nobody', 'MSG', 'x'));
    assert.equal((await mkr.next()).fields[0], 'UNKNOWN_DESTINATION');
  });

  it('answers BAD_FRAME to a malformed frame after login, and keeps serving', async () => {
    const mkr = await eot.device('mkr-01');
    for (const bad of [
      'mkr-01|SERVER|ping\u0004',
      'mkr-01|lamp-07|WRITE||on\u0004',
      '|SERVER|PING\u0004',
      'mkr-01;SERVER;PING\u0004',
    ]) {
      mkr.sendRaw(bad);
      const error = await mkr.next();
      assert.deepEqual([error.type, error.fields[0]], ['ERROR', 'BAD_FRAME'], bad);
    }
    mkr.sendRaw(`mkr-01|${'x'.repeat(65)}|MSG|hi\u0004`);
    assert.equal((await mkr.next()).fields[0], 'BAD_FRAME');
    mkr.send(f('mkr-01', 'SERVER', 'AUTH2', 'mkr1000', mkr.nonce, 'ab'.repeat(32)));
    assert.equal((await mkr.next()).fields[0], 'BAD_FRAME');
    await mkr.sync();
  });

  it('stores EVENTs and ALARMs, hands them to the flows, and re-sends alarms to subscribers only', async () => {
    const mkr = await eot.device('mkr-01');
    const lamp = await eot.device('lamp-07');
    const app = await eot.device('app-3');
    const globex = await eot.device('gx-1');
    const alarms: string[] = [];
    eot.server.on('alarm', (r) => alarms.push(`${r.deviceId}:${r.name}:${r.value}`));
    lamp.send(f('lamp-07', 'SERVER', 'SUB', 'fire'));
    globex.send(f('gx-1', 'SERVER', 'SUB', 'fire'));
    await lamp.sync();
    await globex.sync();
    mkr.send(f('mkr-01', 'SERVER', 'EVENT', 'boot', 'v1.2|ok'));
    mkr.send(f('mkr-01', 'SERVER', 'ALARM', 'fire', 'kitchen'));
    assert.deepEqual(await lamp.next(), f('mkr-01', 'lamp-07', 'ALARM', 'fire', 'kitchen'));
    await Promise.all([mkr.sync(), app.sync(), globex.sync()]);
    assert.deepEqual(app.takeReceived(), [], 'not subscribed');
    assert.deepEqual(globex.takeReceived(), [], 'subscribed, but another customer');
    assert.deepEqual(alarms, ['mkr-01:fire:kitchen']);
    const events = await eot.server.log.list('event', { customerId: 'acme' });
    assert.deepEqual(
      events.map((e) => [e.deviceId, e.name, e.value]),
      [['mkr-01', 'boot', 'v1.2|ok']],
    );
    assert.equal((await eot.server.log.list('alarm', { deviceId: 'mkr-01' }))[0].name, 'fire');
    assert.deepEqual(
      flows.filter((x) => x.type === 'EVENT' || x.type === 'ALARM').map((x) => x.fields),
      [
        ['boot', 'v1.2|ok'],
        ['fire', 'kitchen'],
      ],
    );
    lamp.send(f('lamp-07', 'SERVER', 'UNSUB', 'fire'));
    await lamp.sync();
    mkr.send(f('mkr-01', 'SERVER', 'ALARM', 'fire', 'again'));
    await mkr.sync();
    await lamp.sync();
    assert.deepEqual(lamp.takeReceived(), [], 'unsubscribed');
  });

  it('SUB with a condition delivers the reading each time it crosses into it', async () => {
    const mkr = await eot.device('mkr-01');
    const app = await eot.device('app-3');
    app.send(f('app-3', 'SERVER', 'SUB', 'temperature', '>30'));
    await app.sync();
    for (const v of ['25', '31', '32', '29', '35', 'n/a']) {
      mkr.send(f('mkr-01', 'SERVER', 'READING', 'temperature', v, 'C', ''));
    }
    mkr.send(f('mkr-01', 'SERVER', 'READING', 'humidity', '99'));
    await mkr.sync();
    await app.sync();
    assert.deepEqual(
      app.takeReceived().map((x) => [x.origin, x.destination, x.fields[1]]),
      [
        ['mkr-01', 'app-3', '31'],
        ['mkr-01', 'app-3', '35'],
      ],
    );
    app.send(f('app-3', 'SERVER', 'SUB', 'temperature', 'hot'));
    assert.equal((await app.next()).fields[0], 'BAD_FRAME');
  });

  it('passes unknown well-formed types to the flows, not to the destination', async () => {
    const mkr = await eot.device('mkr-01');
    const lamp = await eot.device('lamp-07');
    mkr.send(f('mkr-01', 'lamp-07', 'X_DIAG', 'a', 'b'));
    await mkr.sync();
    await lamp.sync();
    assert.deepEqual(lamp.takeReceived(), []);
    assert.deepEqual(flows, [{ ...f('mkr-01', 'lamp-07', 'X_DIAG', 'a', 'b'), customer: 'acme' }]);
  });

  it('answers PING with PONG and closes a device silent past the idle timeout', async () => {
    await eot.close();
    eot = await startEot({ idleTimeoutMs: 60_000 });
    const mkr = await eot.device('mkr-01');
    const lamp = await eot.device('lamp-07');
    await eot.clock.advance(40_000);
    await mkr.sync(); // PING/PONG: mkr is active
    await eot.clock.advance(30_000);
    await lamp.whenClosed();
    assert.equal(mkr.closed, false);
    await mkr.sync();
  });

  it('lets the flows send to a device, to * of a customer, and refuses unknown or foreign devices', async () => {
    const lamp = await eot.device('lamp-07');
    const app = await eot.device('app-3');
    const globex = await eot.device('gx-1');
    assert.deepEqual(
      await eot.server.send({
        destination: 'lamp-07',
        type: 'WRITE',
        fields: ['led', 'off'],
        customer: 'acme',
      }),
      {
        status: 'delivered',
        count: 1,
      },
    );
    assert.deepEqual(await lamp.next(), f('SERVER', 'lamp-07', 'WRITE', 'led', 'off'));
    assert.deepEqual(
      await eot.server.send({ destination: '*', type: 'MSG', fields: ['hello'], customer: 'acme' }),
      {
        status: 'delivered',
        count: 2,
      },
    );
    assert.deepEqual(await app.next(), f('SERVER', '*', 'MSG', 'hello'));
    await assert.rejects(
      eot.server.send({ destination: 'nobody', type: 'MSG', fields: ['x'] }),
      /no device nobody/,
    );
    await assert.rejects(
      eot.server.send({ destination: 'gx-1', type: 'MSG', fields: ['x'], customer: 'acme' }),
      /not of customer acme/,
    );
    await assert.rejects(
      eot.server.send({ destination: '*', type: 'MSG', fields: ['x'] }),
      /needs the customer/,
    );
    await assert.rejects(
      eot.server.send({ destination: 'lamp-07', type: 'WRITE', fields: ['l|ed', 'on'] }),
      /separator/,
    );
    await globex.sync();
    assert.deepEqual(globex.takeReceived(), []);
  });
});
