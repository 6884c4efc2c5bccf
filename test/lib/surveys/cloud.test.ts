// The cloud endpoint and the gateway's TCP link on loopback: batches are
// handed over once and confirmed by id, also when a confirmation is lost and
// the batch comes again (on another connection, at the same time, or after a
// restart of the cloud); a batch not taken is not confirmed; bad bytes get an
// ERROR and a hang-up without harming other gateways.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { tcpCloud } from '../../../lib/surveys/cloud-link';
import { ReceivedBatch, SurveyCloudServer } from '../../../lib/surveys/cloud-server';
import { encode, Frame, Framer } from '../../../lib/surveys/frame';
import { SeenIds } from '../../../lib/surveys/seen-ids';
import { silentLogger } from '../../../lib/util/log';
import { waitFor } from '../../support/net';

const LINES = ['192.168.1.2 08:00 - 20 - 30%', '192.168.1.2 12:00 - 25 - 33%'];
const BODY = Buffer.from(LINES.map((l) => `${l}\n`).join(''));

/** A raw gateway: writes bytes, collects the frames the cloud answers. */
async function rawClient(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const framer = new Framer();
  const frames: Frame[] = [];
  let ended = false;
  socket.on('data', (d: Buffer) => frames.push(...framer.push(d)));
  socket.on('close', () => (ended = true));
  socket.on('error', () => undefined);
  return { socket, frames, ended: () => ended };
}

describe('survey cloud endpoint and link', function () {
  this.timeout(10_000);
  let dir: string;
  let seen: SeenIds;
  let cloud: SurveyCloudServer;
  let taken: ReceivedBatch[];
  let onBatch: (b: ReceivedBatch) => void | Promise<void>;

  async function startCloud() {
    seen = await SeenIds.open({ file: path.join(dir, 'batch-ids') });
    cloud = await SurveyCloudServer.listen({
      host: '127.0.0.1',
      port: 0,
      seen,
      logger: silentLogger,
      name: 'test',
      onBatch: (b) => onBatch(b),
    });
  }
  async function stopCloud() {
    await cloud.close();
    await seen.close();
  }

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-survey-cloud-'));
    taken = [];
    onBatch = (b) => {
      taken.push(b);
    };
    await startCloud();
  });
  afterEach(stopCloud);

  it('takes batches from the link and confirms each by id', async () => {
    const connection = await tcpCloud({ host: '127.0.0.1', port: cloud.port })();
    const answers = await Promise.all([
      connection.deliver({ id: 'b1', receivedAt: 1000, lines: LINES }),
      connection.deliver({ id: 'b2', receivedAt: 2000, lines: LINES.slice(1) }),
    ]);
    connection.close();
    assert.deepEqual(answers, [{ kind: 'received' }, { kind: 'received' }]);
    assert.deepEqual(
      taken.map((b) => [b.id, b.receivedAt, b.lines]),
      [
        ['b1', 1000, LINES],
        ['b2', 2000, LINES.slice(1)],
      ],
    );
    assert.match(taken[0].gateway, /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(cloud.stats, {
      connections: cloud.stats.connections,
      batches: 2,
      duplicates: 0,
    });
  });

  it('confirms a batch sent again after a lost confirmation without taking it twice', async () => {
    const first = await rawClient(cloud.port);
    first.socket.write(encode({ kind: 'batch', id: 'b1', receivedAt: 5, body: BODY }));
    await waitFor(async () => assert.equal(taken.length, 1), 2000);
    first.socket.destroy(); // the gateway crashed before reading the answer

    const connection = await tcpCloud({ host: '127.0.0.1', port: cloud.port })();
    assert.deepEqual(await connection.deliver({ id: 'b1', receivedAt: 5, lines: LINES }), {
      kind: 'received',
    });
    connection.close();
    assert.equal(taken.length, 1);
    assert.equal(cloud.stats.duplicates, 1);
  });

  it('takes a batch once when it comes on two connections at the same time', async () => {
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    onBatch = async (b) => {
      taken.push(b);
      await slow;
    };
    const [a, b] = await Promise.all([rawClient(cloud.port), rawClient(cloud.port)]);
    const frame = encode({ kind: 'batch', id: 'same', receivedAt: 5, body: BODY });
    a.socket.write(frame);
    await waitFor(async () => assert.equal(taken.length, 1), 2000);
    b.socket.write(frame);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual([a.frames, b.frames], [[], []], 'no confirmation before it is taken');
    release();
    await waitFor(async () => assert.equal(a.frames.length + b.frames.length, 2), 2000);
    assert.deepEqual(a.frames, [{ kind: 'received', id: 'same' }]);
    assert.deepEqual(b.frames, [{ kind: 'received', id: 'same' }]);
    assert.equal(taken.length, 1);
    a.socket.destroy();
    b.socket.destroy();
  });

  it('remembers the batches it took across a restart', async () => {
    const link = tcpCloud({ host: '127.0.0.1', port: cloud.port });
    let connection = await link();
    await connection.deliver({ id: 'kept-1', receivedAt: 5, lines: LINES });
    connection.close();
    await stopCloud();
    await startCloud();
    connection = await tcpCloud({ host: '127.0.0.1', port: cloud.port })();
    assert.deepEqual(await connection.deliver({ id: 'kept-1', receivedAt: 5, lines: LINES }), {
      kind: 'received',
    });
    assert.deepEqual(await connection.deliver({ id: 'new-2', receivedAt: 6, lines: LINES }), {
      kind: 'received',
    });
    connection.close();
    assert.deepEqual(
      taken.map((b) => b.id),
      ['kept-1', 'new-2'],
    );
  });

  it('does not confirm a batch it could not take, and takes it when it comes again', async () => {
    onBatch = () => {
      throw new Error('the flow is stopping');
    };
    const connection = await tcpCloud({ host: '127.0.0.1', port: cloud.port })();
    await assert.rejects(
      connection.deliver({ id: 'b1', receivedAt: 5, lines: LINES }),
      /the cloud: batch b1 not taken: the flow is stopping/,
    );
    await assert.rejects(
      connection.deliver({ id: 'b2', receivedAt: 5, lines: LINES }),
      /not taken/,
      'a failed connection stays failed',
    );
    assert.equal(seen.has('b1'), false);
    onBatch = (b) => {
      taken.push(b);
    };
    const again = await tcpCloud({ host: '127.0.0.1', port: cloud.port })();
    assert.deepEqual(await again.deliver({ id: 'b1', receivedAt: 5, lines: LINES }), {
      kind: 'received',
    });
    again.close();
    assert.equal(taken.length, 1);
  });

  it('answers garbage with ERROR and hangs up, and keeps serving other gateways', async () => {
    const bad = await rawClient(cloud.port);
    bad.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(async () => assert.ok(bad.ended()), 3000);
    assert.equal(bad.frames.length, 1);
    assert.equal(bad.frames[0].kind, 'error');
    assert.match((bad.frames[0] as { reason: string }).reason, /unknown frame "GET \/ HTTP\/1\.1"/);

    const good = await tcpCloud({ host: '127.0.0.1', port: cloud.port })();
    assert.deepEqual(await good.deliver({ id: 'b1', receivedAt: 5, lines: LINES }), {
      kind: 'received',
    });
    good.close();
  });

  it('refuses a body that is not UTF-8 text, and ignores a batch cut short', async () => {
    const client = await rawClient(cloud.port);
    client.socket.write(
      encode({ kind: 'batch', id: 'latin1', receivedAt: 5, body: Buffer.from([0x31, 0xe8, 0x0a]) }),
    );
    await waitFor(async () => assert.equal(client.frames.length, 1), 2000);
    assert.deepEqual(client.frames[0], {
      kind: 'refused',
      id: 'latin1',
      reason: 'the body is not UTF-8 text',
    });

    client.socket.end(
      encode({ kind: 'batch', id: 'cut', receivedAt: 5, body: BODY }).subarray(0, 40),
    );
    await waitFor(async () => assert.ok(client.ended()), 2000);
    assert.deepEqual(taken, []);
  });

  it('a link to nowhere fails to connect', async () => {
    const port = cloud.port;
    await stopCloud();
    await assert.rejects(tcpCloud({ host: '127.0.0.1', port })(), /ECONNREFUSED/);
    await startCloud();
  });
});

describe('the list of batches taken', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-seen-ids-'));
  });

  it('drops a line cut by a crash', async () => {
    const file = path.join(dir, 'ids');
    fs.writeFileSync(file, 'a\nb\nhal');
    const seen = await SeenIds.open({ file });
    assert.deepEqual([seen.has('a'), seen.has('b'), seen.has('hal')], [true, true, false]);
    await seen.add('c');
    await seen.close();
    assert.equal(fs.readFileSync(file, 'utf8'), 'a\nb\nc\n');
  });

  it('keeps the newest ids, and compacts the file', async () => {
    const file = path.join(dir, 'ids');
    const seen = await SeenIds.open({ file, maxIds: 3 });
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) await seen.add(id);
    assert.equal(seen.size, 3);
    assert.deepEqual(
      ['a', 'd', 'e', 'f', 'g'].map((id) => seen.has(id)),
      [false, false, true, true, true],
    );
    await seen.close();
    assert.equal(
      fs.readFileSync(file, 'utf8'),
      'e\nf\ng\n',
      'compacted once it held twice the limit',
    );
    const again = await SeenIds.open({ file, maxIds: 3 });
    assert.deepEqual(
      ['d', 'e', 'g'].map((id) => again.has(id)),
      [false, true, true],
    );
    await again.close();
  });
});
