// Logging in over real sockets: HELLO, AUTH2 and the seed's AUTH, every way a
// login is refused (the peer only ever learns AUTHFAIL), throttling, the
// handshake timeout, takeover, and the registry cutting a device off.
import assert from 'node:assert/strict';
import { auth2Mac, authDigest } from '../../../lib/eot/auth';
import { Frame } from '../../../lib/eot/codec';
import { registry } from '../../../lib/ops/metrics';
import { credentials, EotFixture, startEot } from '../../support/eot';

const authFrame = (id: string, type: string, fields: string[]): Frame => ({
  origin: id,
  destination: 'SERVER',
  type,
  fields,
});

async function loginCount(result: string): Promise<number> {
  const metric = await registry.getSingleMetric('sensflow_eot_logins_total')!.get();
  return metric.values.find((v) => v.labels.result === result)?.value ?? 0;
}

describe('EOT handshake', () => {
  let eot: EotFixture;
  afterEach(async () => {
    await eot?.close();
  });

  it('greets each connection with HELLO|1|<fresh 32-hex nonce>', async () => {
    eot = await startEot();
    const a = await eot.open();
    const b = await eot.open();
    assert.match(a.nonce, /^[0-9a-f]{32}$/);
    assert.notEqual(a.nonce, b.nonce);
  });

  it('logs in with AUTH2: AUTHOK addressed to the device', async () => {
    eot = await startEot();
    const client = await eot.open();
    const { serial } = credentials('mkr-01');
    const mac = auth2Mac(serial, client.nonce, 'mkr-01', 'mkr1000');
    client.send(authFrame('mkr-01', 'AUTH2', ['mkr1000', client.nonce, mac]));
    const ok = await client.next();
    assert.deepEqual(ok, { origin: 'SERVER', destination: 'mkr-01', type: 'AUTHOK', fields: [] });
    assert.ok(eot.server.isOnline('mkr-01'));
    assert.ok((await eot.directory.findDevice('mkr-01'))?.lastSeen, 'marked seen');
  });

  it("logs in with the seed's AUTH", async () => {
    eot = await startEot();
    const client = await eot.open();
    client.send(
      authFrame('mkr-01', 'AUTH', ['mkr1000', '04217', authDigest('serial-mkr-01', '04217')]),
    );
    assert.equal((await client.next()).type, 'AUTHOK');
  });

  describe('refuses, with AUTHFAIL then close', () => {
    async function refused(
      send: (c: Awaited<ReturnType<EotFixture['open']>>) => void,
      reason: string,
    ) {
      const before = await loginCount(reason);
      const client = await eot.open();
      send(client);
      const answer = await client.next();
      assert.equal(answer.type, 'AUTHFAIL');
      assert.deepEqual(answer.fields, [], 'no reason for the peer');
      await client.whenClosed();
      assert.equal(await loginCount(reason), before + 1, `counted as ${reason}`);
    }
    beforeEach(async () => {
      eot = await startEot();
    });

    it('a wrong HMAC', () =>
      refused(
        (c) => c.send(authFrame('mkr-01', 'AUTH2', ['mkr1000', c.nonce, 'ab'.repeat(32)])),
        'bad_digest',
      ));
    it('an HMAC over the nonce of another connection', async () => {
      const other = await eot.open();
      await refused((c) => {
        const mac = auth2Mac('serial-mkr-01', other.nonce, 'mkr-01', 'mkr1000');
        c.send(authFrame('mkr-01', 'AUTH2', ['mkr1000', other.nonce, mac]));
      }, 'bad_nonce');
    });
    it('a wrong device type', () =>
      refused((c) => {
        const mac = auth2Mac('serial-mkr-01', c.nonce, 'mkr-01', 'esp32');
        c.send(authFrame('mkr-01', 'AUTH2', ['esp32', c.nonce, mac]));
      }, 'wrong_type'));
    it('an unknown id', () =>
      refused((c) => {
        const mac = auth2Mac('x', c.nonce, 'ghost', 'mkr1000');
        c.send(authFrame('ghost', 'AUTH2', ['mkr1000', c.nonce, mac]));
      }, 'unknown_id'));
    it('a disabled device', async () => {
      eot.directory.setEnabled('mkr-01', false);
      await refused((c) => {
        const mac = auth2Mac('serial-mkr-01', c.nonce, 'mkr-01', 'mkr1000');
        c.send(authFrame('mkr-01', 'AUTH2', ['mkr1000', c.nonce, mac]));
      }, 'disabled');
    });
    it('a wrong AUTH digest', () =>
      refused(
        (c) =>
          c.send(authFrame('mkr-01', 'AUTH', ['mkr1000', '11111', authDigest('nope', '11111')])),
        'bad_digest',
      ));
    it('a random of 6 digits, even with the right digest', () =>
      refused(
        (c) =>
          c.send(
            authFrame('mkr-01', 'AUTH', [
              'mkr1000',
              '123456',
              authDigest('serial-mkr-01', '123456'),
            ]),
          ),
        'bad_format',
      ));
    it('a length-extension attempt: random padded past 5 characters', () =>
      refused((c) => {
        // What a forger would append to extend SHA-256(serial + "12345").
        const random = '12345\u0080\u0000\u0000\u0001\u0010';
        c.send(
          authFrame('mkr-01', 'AUTH', ['mkr1000', random, authDigest('serial-mkr-01', random)]),
        );
      }, 'bad_format'));
    it('a digest in upper case', () =>
      refused(
        (c) =>
          c.send(
            authFrame('mkr-01', 'AUTH', [
              'mkr1000',
              '22222',
              authDigest('serial-mkr-01', '22222').toUpperCase(),
            ]),
          ),
        'bad_format',
      ));
    it('a replayed AUTH (same id and random within 24 h)', async () => {
      const fields = ['mkr1000', '31337', authDigest('serial-mkr-01', '31337')];
      const first = await eot.open();
      first.send(authFrame('mkr-01', 'AUTH', fields));
      assert.equal((await first.next()).type, 'AUTHOK');
      await refused((c) => c.send(authFrame('mkr-01', 'AUTH', fields)), 'replay');
    });
  });

  it('accepts the same AUTH random again after 24 h', async () => {
    eot = await startEot({ sweepIntervalMs: 3600_000, queueSweepMs: 3600_000 });
    const fields = ['mkr1000', '31337', authDigest('serial-mkr-01', '31337')];
    const first = await eot.open();
    first.send(authFrame('mkr-01', 'AUTH', fields));
    assert.equal((await first.next()).type, 'AUTHOK');
    await eot.clock.advance(24 * 3600_000 + 1);
    const again = await eot.open();
    again.send(authFrame('mkr-01', 'AUTH', fields));
    assert.equal((await again.next((f) => f.type.startsWith('AUTH'))).type, 'AUTHOK');
  });

  it('refuses AUTH when the seed mode is switched off, AUTH2 still works', async () => {
    eot = await startEot({ legacyAuth: false });
    const c = await eot.open();
    c.send(authFrame('mkr-01', 'AUTH', ['mkr1000', '55555', authDigest('serial-mkr-01', '55555')]));
    assert.equal((await c.next()).type, 'AUTHFAIL');
    await eot.device('mkr-01', 'AUTH2');
  });

  it('answers any other frame before login with NOT_AUTHENTICATED, then closes', async () => {
    eot = await startEot();
    const c = await eot.open();
    c.send({ origin: 'mkr-01', destination: 'lamp-07', type: 'MSG', fields: ['hi'] });
    const error = await c.next();
    assert.deepEqual([error.type, error.fields[0]], ['ERROR', 'NOT_AUTHENTICATED']);
    await c.whenClosed();
  });

  it('answers garbage before login with BAD_FRAME, then closes', async () => {
    eot = await startEot();
    const c = await eot.open();
    c.sendRaw(Buffer.from([0xde, 0xad, 0x7c, 0xbe, 0xef, 0x04]));
    const error = await c.next();
    assert.deepEqual([error.type, error.fields[0]], ['ERROR', 'BAD_FRAME']);
    await c.whenClosed();
  });

  it('closes a connection that does not log in within the handshake timeout', async () => {
    eot = await startEot({ handshakeTimeoutMs: 10_000 });
    const c = await eot.open();
    await eot.clock.advance(9_000);
    assert.equal(c.closed, false);
    await eot.clock.advance(2_000);
    await c.whenClosed();
  });

  it('throttles: 5 failures in 60 s lock the id and the address out for 5 min', async () => {
    eot = await startEot({ throttle: { maxFailures: 5, windowMs: 60_000, lockMs: 300_000 } });
    for (let i = 0; i < 5; i++) {
      const c = await eot.open();
      c.send(authFrame('mkr-01', 'AUTH2', ['mkr1000', c.nonce, 'cd'.repeat(32)]));
      assert.equal((await c.next()).type, 'AUTHFAIL');
    }
    const before = await loginCount('throttled');
    // The right proof is refused now, for that id from another address...
    const other = await eot.open('127.0.0.2');
    assert.equal(await other.login(credentials('mkr-01')), false);
    // ...and for another id from the same address.
    const sameAddress = await eot.open();
    assert.equal(await sameAddress.login(credentials('lamp-07')), false);
    assert.equal(await loginCount('throttled'), before + 2);
    // Another id from another address is not affected.
    const bystander = await eot.open('127.0.0.3');
    assert.equal(await bystander.login(credentials('app-3')), true);
    await eot.clock.advance(300_001);
    const later = await eot.open();
    assert.equal(await later.login(credentials('mkr-01')), true);
  });

  it('closes the older connection when an id logs in again', async () => {
    eot = await startEot();
    const first = await eot.device('mkr-01');
    const second = await eot.device('mkr-01');
    await first.whenClosed();
    await second.sync();
    assert.ok(eot.server.isOnline('mkr-01'));
  });

  it('cuts a device off at once when the registry disables or removes it', async () => {
    eot = await startEot();
    const mkr = await eot.device('mkr-01');
    const lamp = await eot.device('lamp-07');
    eot.directory.setEnabled('mkr-01', false);
    await mkr.whenClosed();
    eot.directory.remove('lamp-07');
    await lamp.whenClosed();
    assert.equal(eot.server.isOnline('mkr-01'), false);
  });
});
