// Acceptance of the EOT server of the default flow (`sensflow start`): a
// client written from eot-protocol.md alone (raw sockets and its own tiny
// encoder; nothing from lib/eot) logs in both ways, exchanges messages, and
// tries every bad input of the issue. Each gets the spec's answer, the server
// keeps serving a bystander, and nothing is delivered that should not be.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { Registry } from '../../lib/registry/registry';
import { openStore, Store } from '../../lib/store/store';
import { delay, waitFor, waitForPort } from '../support/net';
import {
  runSensflow,
  SensflowProcess,
  startSensflowProcess,
  testEnv,
} from '../support/sensflow-process';

const EOT = 0x04;
const SECRET = 'acceptance-credential-secret-0123456789';

/** The spec's frame: fields joined by `|`, ended by EOT. */
const frame = (...fields: string[]) => Buffer.from(fields.join('|') + '\u0004', 'utf8');
const hmac = (serial: string, text: string) =>
  crypto.createHmac('sha256', serial).update(text).digest('hex');
const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

/** A device written from the spec: a socket, a byte buffer cut at EOT, fields cut at `|`. */
class SpecDevice {
  nonce = '';
  closed = false;
  private pending = Buffer.alloc(0);
  private frames: string[][] = [];
  private wake?: () => void;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      let at: number;
      while ((at = this.pending.indexOf(EOT)) >= 0) {
        this.frames.push(this.pending.subarray(0, at).toString('utf8').split('|'));
        this.pending = this.pending.subarray(at + 1);
      }
      this.wake?.();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  static async connect(port: number, localAddress = '127.0.0.1'): Promise<SpecDevice> {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    const device = new SpecDevice(socket);
    const hello = await device.next();
    assert.equal(hello.slice(0, 4).join('|'), 'SERVER|*|HELLO|1');
    assert.match(hello[4], /^[0-9a-f]{32}$/);
    device.nonce = hello[4];
    return device;
  }

  async next(timeoutMs = 5000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.closed) throw new Error('closed by the server');
      if (Date.now() > deadline) throw new Error('no frame in time');
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
    return this.frames.shift()!;
  }

  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  async auth2(id: string, type: string, serial: string): Promise<string[]> {
    this.write(
      frame(id, 'SERVER', 'AUTH2', type, this.nonce, hmac(serial, this.nonce + id + type)),
    );
    return this.next();
  }

  async auth(id: string, type: string, serial: string, random: string): Promise<string[]> {
    this.write(frame(id, 'SERVER', 'AUTH', type, random, sha256(serial + random)));
    return this.next();
  }

  /** PING/PONG: whatever the server sent before has then arrived (kept for received()). */
  async sync(id: string): Promise<void> {
    this.write(frame(id, 'SERVER', 'PING'));
    const before: string[][] = [];
    for (;;) {
      const f = await this.next();
      if (f[2] === 'PONG') break;
      before.push(f);
    }
    this.frames.unshift(...before);
  }

  async closedByServer(timeoutMs = 5000): Promise<void> {
    await waitFor(async () => assert.ok(this.closed, 'still open'), timeoutMs);
  }

  get waiting(): number {
    return this.frames.length;
  }

  received(): string[][] {
    return this.frames.splice(0);
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('EOT acceptance: an independent client against `sensflow start`', function () {
  this.timeout(120_000);
  let sf: SensflowProcess;
  let env: Record<string, string>;
  let store: Store;
  let registry: Registry;
  let port: number;
  const serials: Record<string, string> = {};
  const open: SpecDevice[] = [];
  const connect = async (localAddress?: string) => {
    const d = await SpecDevice.connect(port, localAddress);
    open.push(d);
    return d;
  };
  const loggedIn = async (id: string, type: string, localAddress?: string) => {
    const d = await connect(localAddress);
    assert.deepEqual(await d.auth2(id, type, serials[id]), ['SERVER', id, 'AUTHOK']);
    return d;
  };

  before(async () => {
    env = {
      ...(await testEnv()),
      SENSFLOW_CREDENTIAL_SECRET: SECRET,
      SENSFLOW_ADMIN_PASSWORD: 'acceptance-password',
    };
    port = Number(env.SENSFLOW_EOT_PORT);
    sf = await startSensflowProcess(env);
    await waitForPort(port, 30_000);
    // Registered while the server runs, from another process's point of view.
    store = await openStore({ kind: 'sqlite', file: path.join(env.SENSFLOW_HOME, 'sensflow.db') });
    registry = new Registry(store.db, { credentialSecret: SECRET });
    await registry.customers.add({ id: 'acme', name: 'ACME' });
    await registry.customers.add({ id: 'globex', name: 'Globex' });
    for (const [id, type, customerId] of [
      ['mkr-01', 'mkr1000', 'acme'],
      ['lamp-07', 'esp32', 'acme'],
      ['bystander', 'app', 'acme'],
      ['gx-1', 'mkr1000', 'globex'],
    ]) {
      serials[id] = (await registry.addDevice({ id, type, customerId, location: 'u4/300' })).serial;
    }
  });
  after(async () => {
    for (const d of open) d.close();
    await registry?.close();
    await store?.close();
    await sf?.stop();
  });

  let bystander: SpecDevice;
  beforeEach(async () => {
    bystander = await loggedIn('bystander', 'app', '127.0.0.9');
  });
  afterEach(async () => {
    // The server keeps serving everyone else, and sent the bystander nothing.
    await bystander.sync('bystander');
    assert.deepEqual(bystander.received(), []);
    bystander.close();
  });

  it('logs in with AUTH2 and with AUTH, and exchanges messages both ways', async () => {
    const mkr = await loggedIn('mkr-01', 'mkr1000');
    const lamp = await connect();
    assert.deepEqual(await lamp.auth('lamp-07', 'esp32', serials['lamp-07'], '48213'), [
      'SERVER',
      'lamp-07',
      'AUTHOK',
    ]);
    mkr.write(frame('mkr-01', 'lamp-07', 'WRITE', 'led', 'on'));
    assert.deepEqual(await lamp.next(), ['mkr-01', 'lamp-07', 'WRITE', 'led', 'on']);
    lamp.write(frame('lamp-07', 'mkr-01', 'ACK', 'led', 'on'));
    assert.deepEqual(await mkr.next(), ['lamp-07', 'mkr-01', 'ACK', 'led', 'on']);
    // A frame cut in two writes, and two frames in one write.
    const split = frame('mkr-01', 'lamp-07', 'MSG', 'split in two');
    mkr.write(split.subarray(0, 9));
    await delay(30);
    mkr.write(split.subarray(9));
    mkr.write(
      Buffer.concat([
        frame('mkr-01', 'lamp-07', 'MSG', 'one'),
        frame('mkr-01', 'lamp-07', 'MSG', 'two'),
      ]),
    );
    assert.deepEqual((await lamp.next())[3], 'split in two');
    assert.deepEqual((await lamp.next())[3], 'one');
    assert.deepEqual((await lamp.next())[3], 'two');
    mkr.write(frame('mkr-01', '*', 'MSG', 'everyone'));
    assert.deepEqual(await lamp.next(), ['mkr-01', '*', 'MSG', 'everyone']);
    assert.deepEqual(await bystander.next(), ['mkr-01', '*', 'MSG', 'everyone']);
    mkr.write(frame('mkr-01', 'SERVER', 'PING'));
    assert.deepEqual(await mkr.next(), ['SERVER', 'mkr-01', 'PONG']);
  });

  it('lets a device added with `sensflow devices add` while it runs log in at once', async () => {
    const added = await runSensflow(
      [
        'devices',
        'add',
        '--id',
        'new-1',
        '--type',
        'rpi3',
        '--customer',
        'acme',
        '--location',
        'u4/302',
      ],
      env,
    );
    assert.equal(added.code, 0, added.stderr);
    // The generated serial is printed once, on the line after its title.
    const lines = added.stdout.split('\n');
    serials['new-1'] = lines[lines.findIndex((l) => /Serial number/.test(l)) + 1].trim();
    assert.match(serials['new-1'], /^[0-9a-f]{32}$/);
    await loggedIn('new-1', 'rpi3');
    // And one disabled the same way is cut off at once.
    const disabled = await runSensflow(['devices', 'disable', 'new-1'], env);
    assert.equal(disabled.code, 0, disabled.stderr);
    const d = open[open.length - 1];
    await d.closedByServer(5000);
  });

  describe('bad input before login: the spec code, then close', () => {
    const cases: Array<[string, Buffer, string]> = [
      ['a frame before login', frame('mkr-01', 'lamp-07', 'MSG', 'hi'), 'NOT_AUTHENTICATED'],
      ['binary garbage', Buffer.from([0xff, 0x00, 0x13, 0x7c, 0x99, 0x04]), 'BAD_FRAME'],
      ['an unknown separator', Buffer.from('mkr-01;SERVER;PING\u0004'), 'BAD_FRAME'],
      ['empty fields', frame('', '', 'AUTH2', '', '', ''), 'BAD_FRAME'],
      [
        'an id of 65 bytes',
        frame('x'.repeat(65), 'SERVER', 'AUTH2', 'mkr1000', '0'.repeat(32), '0'.repeat(64)),
        'BAD_FRAME',
      ],
      [
        'a type in lower case',
        frame('mkr-01', 'SERVER', 'auth2', 'mkr1000', '0'.repeat(32), '0'.repeat(64)),
        'BAD_FRAME',
      ],
    ];
    for (const [name, bytes, code] of cases) {
      it(name, async () => {
        const d = await connect();
        d.write(bytes);
        const answer = await d.next();
        assert.deepEqual(answer.slice(2, 4), ['ERROR', code], answer.join('|'));
        await d.closedByServer();
      });
    }

    it('a frame without EOT past 4096 bytes: FRAME_TOO_LARGE', async () => {
      const d = await connect();
      d.write(Buffer.alloc(5000, 'A'));
      assert.deepEqual((await d.next()).slice(2, 4), ['ERROR', 'FRAME_TOO_LARGE']);
      await d.closedByServer();
    });
  });

  describe('refused logins: AUTHFAIL, then close', () => {
    it('a wrong digest', async () => {
      const d = await connect('127.0.0.21');
      assert.deepEqual(await d.auth2('mkr-01', 'mkr1000', 'not-the-serial'), [
        'SERVER',
        'mkr-01',
        'AUTHFAIL',
      ]);
      await d.closedByServer();
    });
    it('a replayed AUTH', async () => {
      const first = await connect('127.0.0.22');
      assert.equal(
        (await first.auth('lamp-07', 'esp32', serials['lamp-07'], '77001'))[2],
        'AUTHOK',
      );
      const replay = await connect('127.0.0.22');
      assert.equal(
        (await replay.auth('lamp-07', 'esp32', serials['lamp-07'], '77001'))[2],
        'AUTHFAIL',
      );
      await replay.closedByServer();
    });
    it('a random of 6 digits', async () => {
      const d = await connect('127.0.0.23');
      assert.equal((await d.auth('lamp-07', 'esp32', serials['lamp-07'], '770012'))[2], 'AUTHFAIL');
      await d.closedByServer();
    });
  });

  describe('bad input after login: the spec code, the connection kept, nothing delivered', () => {
    it('a forged origin: ORIGIN_MISMATCH', async () => {
      const mkr = await loggedIn('mkr-01', 'mkr1000');
      const lamp = await loggedIn('lamp-07', 'esp32');
      mkr.write(frame('bystander', 'lamp-07', 'MSG', 'forged'));
      assert.deepEqual((await mkr.next()).slice(2, 4), ['ERROR', 'ORIGIN_MISMATCH']);
      await lamp.sync('lamp-07');
      assert.deepEqual(lamp.received(), []);
      await mkr.sync('mkr-01');
    });
    it('a message to another customer: FORBIDDEN', async () => {
      const mkr = await loggedIn('mkr-01', 'mkr1000');
      const gx = await loggedIn('gx-1', 'mkr1000');
      mkr.write(frame('mkr-01', 'gx-1', 'MSG', 'across'));
      assert.deepEqual((await mkr.next()).slice(2, 4), ['ERROR', 'FORBIDDEN']);
      gx.write(frame('gx-1', '*', 'MSG', 'globex only'));
      await gx.sync('gx-1');
      await mkr.sync('mkr-01');
      assert.deepEqual(mkr.received(), [], 'the broadcast of another customer does not arrive');
    });
    it('malformed frames: BAD_FRAME', async () => {
      const mkr = await loggedIn('mkr-01', 'mkr1000');
      for (const bad of [
        frame('mkr-01', 'SERVER', 'ping'),
        frame('mkr-01', 'lamp-07', 'WRITE', '', 'on'),
        Buffer.from([0xc3, 0x28, 0x04]),
      ]) {
        mkr.write(bad);
        assert.deepEqual((await mkr.next()).slice(2, 4), ['ERROR', 'BAD_FRAME']);
      }
      await mkr.sync('mkr-01');
    });
  });

  it('a flood of connections that never send anything is refused past a limit and served on', async () => {
    const flood: net.Socket[] = [];
    let closed = 0;
    for (let i = 0; i < 100; i++) {
      const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.30' });
      s.on('error', () => undefined);
      s.on('data', () => undefined);
      s.on('close', () => closed++);
      flood.push(s);
    }
    // The default allows 64 connections of one address to be logging in at once.
    await waitFor(async () => assert.equal(closed, 36), 10_000);
    const mkr = await loggedIn('mkr-01', 'mkr1000', '127.0.0.31');
    await mkr.sync('mkr-01');
    // Those that stay are closed by the 10 s handshake timeout.
    await waitFor(async () => assert.equal(closed, 100), 20_000);
    for (const s of flood) s.destroy();
  });

  it('a device that stops reading is closed past the limit; the sender is served on', async () => {
    // Devices of their own: the frames queued for the slow one stay out of other tests.
    for (const id of ['sender-1', 'slow-1'])
      serials[id] = (
        await registry.addDevice({ id, type: 'esp32', customerId: 'acme', location: 'u4/303' })
      ).serial;
    const sender = await loggedIn('sender-1', 'esp32');
    const slow = await loggedIn('slow-1', 'esp32');
    slow.socket.pause();
    const big = frame('sender-1', 'slow-1', 'MSG', 'x'.repeat(4000));
    // Until the server answers the sender: slow-1 is then gone and what follows is queued for it.
    // Bounded by time, not by a count of writes: a busy server may take longer
    // than a fixed number of rounds to fill slow-1's buffers, and once slow-1
    // reads again it would never be closed. Writes wait for the server to read
    // the earlier ones, so megabytes do not pile up here meanwhile.
    const deadline = Date.now() + 30_000;
    while (sender.waiting === 0 && Date.now() < deadline) {
      if (sender.socket.writableLength < 1 << 20) for (let j = 0; j < 20; j++) sender.write(big);
      await delay(5);
    }
    slow.socket.resume();
    await slow.closedByServer(10_000);
    await sender.sync('sender-1');
    // What the sender sent after slow-1 was gone was kept for it (ACK|queued), nothing else.
    const answers = sender.received();
    assert.ok(answers.length > 0);
    for (const f of answers) assert.deepEqual(f, ['SERVER', 'sender-1', 'ACK', 'queued', 'slow-1']);
  });

  it('the simulator logs in as the registered devices and exchanges frames', async () => {
    await registry.customers.add({ id: 'sim', name: 'Simulated' });
    for (const id of ['sim-1', 'sim-2', 'sim-3'])
      await registry.addDevice({ id, type: 'esp32', customerId: 'sim', location: 'u4/400' });
    const result = await runSensflow(
      [
        'simulate',
        'eot',
        '--customer',
        'sim',
        '--devices',
        '3',
        '--rate',
        '20',
        '--duration',
        '2',
        '--mix',
        'msg:1,reading:1',
        '--json',
      ],
      env,
    );
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!);
    assert.equal(report.loggedIn, 3, result.stdout);
    assert.ok(report.sent.MSG > 0 && report.received.MSG > 0, result.stdout);
  });
});
