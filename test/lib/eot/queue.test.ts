// The offline queue over real sockets: MSG and WRITE for an offline device of
// the same customer are acknowledged `ACK|queued`, delivered in order at its
// next login (also after a server restart), and reported OFFLINE once expired.
import assert from 'node:assert/strict';
import { Frame } from '../../../lib/eot/codec';
import { EotFixture, startEot } from '../../support/eot';

const f = (origin: string, destination: string, type: string, ...fields: string[]): Frame => ({
  origin,
  destination,
  type,
  fields,
});

describe('EOT offline queue', () => {
  let eot: EotFixture;
  afterEach(async () => {
    await eot?.close();
  });

  it('acknowledges queued and delivers in order when the device logs in', async () => {
    eot = await startEot();
    const mkr = await eot.device('mkr-01');
    const sent = [
      f('mkr-01', 'lamp-07', 'MSG', 'one'),
      f('mkr-01', 'lamp-07', 'WRITE', 'led', 'on'),
      f('mkr-01', 'lamp-07', 'MSG', 'three'),
    ];
    for (const frame of sent) {
      mkr.send(frame);
      assert.deepEqual(await mkr.next(), f('SERVER', 'mkr-01', 'ACK', 'queued', 'lamp-07'));
    }
    const lamp = await eot.device('lamp-07');
    for (const frame of sent) assert.deepEqual(await lamp.next(), frame);
    // A frame sent now comes after the queued ones, directly.
    mkr.send(f('mkr-01', 'lamp-07', 'MSG', 'live'));
    assert.deepEqual(await lamp.next(), f('mkr-01', 'lamp-07', 'MSG', 'live'));
    assert.equal(await eot.server.queue.depth(), 0);
  });

  it('delivers a queue longer than the unread limit as the device reads it, without closing it', async () => {
    eot = await startEot({ maxOutboundBytes: 64 * 1024 });
    const mkr = await eot.device('mkr-01');
    const payload = 'q'.repeat(4000);
    for (let i = 0; i < 100; i++) {
      mkr.send(f('mkr-01', 'lamp-07', 'MSG', `${i}:${payload}`));
      assert.equal((await mkr.next()).fields[0], 'queued');
    }
    const lamp = await eot.device('lamp-07');
    for (let i = 0; i < 100; i++) assert.equal((await lamp.next()).fields[0], `${i}:${payload}`);
    await lamp.sync();
    assert.equal(await eot.server.queue.depth(), 0);
  });

  it('answers OFFLINE for READ to an offline device (only MSG and WRITE are kept)', async () => {
    eot = await startEot();
    const mkr = await eot.device('mkr-01');
    mkr.send(f('mkr-01', 'lamp-07', 'READ', 'temperature'));
    const error = await mkr.next();
    assert.deepEqual([error.type, error.fields[0]], ['ERROR', 'OFFLINE']);
    assert.equal(await eot.server.queue.depth(), 0);
  });

  it('loses nothing acknowledged queued across a server restart', async () => {
    eot = await startEot();
    const mkr = await eot.device('mkr-01');
    mkr.send(f('mkr-01', 'lamp-07', 'WRITE', 'relay', '1'));
    assert.equal((await mkr.next()).fields[0], 'queued');
    const { file, directory, clock } = eot;
    await eot.close();
    eot = await startEot({}, { file, directory, clock });
    const lamp = await eot.device('lamp-07');
    assert.deepEqual(await lamp.next(), f('mkr-01', 'lamp-07', 'WRITE', 'relay', '1'));
  });

  it('reports ERROR|OFFLINE to the sender when the time to live ends, and drops the frame', async () => {
    eot = await startEot({ queueTtlMs: 60_000, queueSweepMs: 1000, sweepIntervalMs: 60_000 });
    const mkr = await eot.device('mkr-01');
    mkr.send(f('mkr-01', 'lamp-07', 'MSG', 'too late'));
    assert.equal((await mkr.next()).fields[0], 'queued');
    await eot.clock.advance(61_000);
    const error = await mkr.next();
    assert.deepEqual([error.type, error.fields[0]], ['ERROR', 'OFFLINE']);
    assert.match(error.fields[1], /MSG to lamp-07 expired/);
    const lamp = await eot.device('lamp-07');
    await lamp.sync();
    assert.deepEqual(lamp.takeReceived(), []);
  });

  it('refuses with OFFLINE beyond the per-device limit', async () => {
    eot = await startEot({ queueMaxPerDevice: 2 });
    const mkr = await eot.device('mkr-01');
    for (let i = 0; i < 2; i++) {
      mkr.send(f('mkr-01', 'lamp-07', 'MSG', String(i)));
      assert.equal((await mkr.next()).fields[0], 'queued');
    }
    mkr.send(f('mkr-01', 'lamp-07', 'MSG', 'overflow'));
    const error = await mkr.next();
    assert.deepEqual([error.type, error.fields[0]], ['ERROR', 'OFFLINE']);
  });

  it('queues frames from the flows for an offline device too', async () => {
    eot = await startEot();
    assert.deepEqual(
      await eot.server.send({ destination: 'lamp-07', type: 'WRITE', fields: ['led', 'on'] }),
      {
        status: 'queued',
      },
    );
    await assert.rejects(
      eot.server.send({ destination: 'lamp-07', type: 'READ', fields: ['t'] }),
      /offline/,
    );
    const lamp = await eot.device('lamp-07');
    assert.deepEqual(await lamp.next(), f('SERVER', 'lamp-07', 'WRITE', 'led', 'on'));
  });
});
