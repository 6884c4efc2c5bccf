// Faults and abuse over real sockets: oversized frames, connection floods that
// never log in (slowloris), a device that stops reading (back-pressure), and
// TLS. Each time the server keeps serving everyone else.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { EotClient } from '../../../lib/eot/client';
import { registry } from '../../../lib/ops/metrics';
import { credentials, EotFixture, startEot } from '../../support/eot';
import { delay, waitFor } from '../../support/net';

const TLS_DIR = path.join(__dirname, '..', '..', 'fixtures', 'tls');

async function metricValue(name: string, label: string, value: string): Promise<number> {
  const metric = await registry.getSingleMetric(name)!.get();
  return metric.values.find((v) => v.labels[label] === value)?.value ?? 0;
}

describe('EOT limits', () => {
  let eot: EotFixture;
  afterEach(async () => {
    await eot?.close();
  });

  it('answers a frame without EOT past the limit with FRAME_TOO_LARGE and closes', async () => {
    eot = await startEot({ maxFrameBytes: 1024 });
    const other = await eot.device('lamp-07');
    const mkr = await eot.device('mkr-01');
    mkr.sendRaw(Buffer.alloc(3000, 'A'));
    const error = await mkr.next();
    assert.deepEqual([error.type, error.fields[0]], ['ERROR', 'FRAME_TOO_LARGE']);
    await mkr.whenClosed();
    await other.sync();
  });

  it('closes a flood of connections that never log in, serving a device from elsewhere', async () => {
    eot = await startEot({ maxHandshakesPerAddress: 20, handshakeTimeoutMs: 10_000 });
    const refusedBefore = await metricValue(
      'sensflow_eot_refused_connections_total',
      'reason',
      'address_limit',
    );
    const flood: net.Socket[] = [];
    let closed = 0;
    for (let i = 0; i < 50; i++) {
      const s = net.connect({ port: eot.port, host: '127.0.0.1' });
      s.on('error', () => undefined);
      s.on('data', () => undefined); // reads HELLO, never answers
      s.on('close', () => closed++);
      flood.push(s);
    }
    await waitFor(async () => {
      const refused = await metricValue(
        'sensflow_eot_refused_connections_total',
        'reason',
        'address_limit',
      );
      assert.equal(refused - refusedBefore, 30);
    }, 5000);
    // A device from another address logs in and works meanwhile.
    const device = await eot.open('127.0.0.2');
    assert.ok(await device.login(credentials('mkr-01')));
    await device.sync();
    await waitFor(async () => assert.equal(closed, 30), 5000);
    await eot.clock.advance(11_000);
    await waitFor(async () => assert.equal(closed, 50), 5000);
    assert.equal(eot.server.connectionCount, 1);
    for (const s of flood) s.destroy();
    // The address may log in again once its connections are gone.
    const back = await eot.open();
    assert.ok(await back.login(credentials('lamp-07')));
  });

  it('closes a device that stops reading once too much waits for it, and serves the sender on', async () => {
    eot = await startEot({ maxOutboundBytes: 64 * 1024 });
    const droppedBefore = await metricValue(
      'sensflow_eot_dropped_frames_total',
      'reason',
      'slow_consumer',
    );
    const mkr = await eot.device('mkr-01');
    const lamp = await eot.device('lamp-07');
    lamp.socket.pause(); // stops reading: the kernel buffers fill, then the server's
    const payload = 'x'.repeat(4000);
    const frame = Buffer.from(`mkr-01|lamp-07|MSG|${payload}\u0004`);
    let sent = 0;
    while (!lamp.closed && sent < 20_000) {
      for (let i = 0; i < 100; i++) mkr.sendRaw(frame);
      sent += 100;
      await delay(2);
      if (eot.server.isOnline('lamp-07') === false) break;
    }
    await waitFor(async () => assert.equal(eot.server.isOnline('lamp-07'), false), 10_000);
    assert.ok(
      (await metricValue('sensflow_eot_dropped_frames_total', 'reason', 'slow_consumer')) >
        droppedBefore,
    );
    await mkr.sync(10_000);
    assert.ok(eot.server.isOnline('mkr-01'));
  });

  it('serves devices over TLS', async () => {
    eot = await startEot({
      tls: {
        port: 0,
        host: '127.0.0.1',
        key: fs.readFileSync(path.join(TLS_DIR, 'key.pem')),
        cert: fs.readFileSync(path.join(TLS_DIR, 'cert.pem')),
      },
    });
    const client = await EotClient.connect({
      port: eot.server.ports.tlsPort!,
      tls: { rejectUnauthorized: false },
    });
    assert.ok(await client.login(credentials('mkr-01', 'AUTH')));
    const plain = await eot.device('lamp-07');
    client.send({ origin: 'mkr-01', destination: 'lamp-07', type: 'MSG', fields: ['over tls'] });
    assert.deepEqual((await plain.next()).fields, ['over tls']);
    client.close();
  });
});
