// The gateway–cloud framing: each frame from commented bytes (decode, encode
// and round trip), frames split across chunks and many in one chunk, bad
// headers refused, and random input that never crashes the framer.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decode,
  encode,
  Frame,
  FrameError,
  Framer,
  MAX_BODY_BYTES,
} from '../../../lib/surveys/frame';

/** Decodes `bytes` to `frame` (consuming all of it), encodes back to `bytes`. */
function check(bytes: string | Buffer, frame: Frame): void {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'utf8');
  const decoded = decode(buf);
  assert.ok(decoded, 'a whole frame');
  assert.deepEqual(decoded.frame, frame);
  assert.equal(decoded.size, buf.length);
  assert.deepEqual(encode(frame), buf);
  for (let cut = 0; cut < buf.length; cut++)
    assert.equal(decode(buf.subarray(0, cut)), null, `incomplete at ${cut}`);
}

const BODY = '192.168.1.2 08:00 - 20 - 30%\n192.168.1.2 12:00 - 25 - 33%\n';

describe('survey frames', () => {
  it('a batch: header with id, arrival time and body length, then exactly that body', () => {
    check(
      // BATCH <id> <receivedAt ms> <bytes>\n
      'BATCH 7d3c5a9e-1 1763700000000 58\n' +
        // 58 bytes: two survey lines, each ending with \n
        BODY,
      { kind: 'batch', id: '7d3c5a9e-1', receivedAt: 1763700000000, body: Buffer.from(BODY) },
    );
  });

  it('an empty batch, and a body whose lines look like headers', () => {
    check('BATCH b 0 0\n', { kind: 'batch', id: 'b', receivedAt: 0, body: Buffer.alloc(0) });
    const tricky = 'Surveys received x\nBATCH y 1 1\n';
    check(`BATCH b 5 ${tricky.length}\n${tricky}`, {
      kind: 'batch',
      id: 'b',
      receivedAt: 5,
      body: Buffer.from(tricky),
    });
  });

  it('the answers: received, refused with a reason, and an error', () => {
    check('Surveys received 7d3c5a9e-1\n', { kind: 'received', id: '7d3c5a9e-1' });
    check('Surveys refused 7d3c5a9e-1 the body is not UTF-8 text\n', {
      kind: 'refused',
      id: '7d3c5a9e-1',
      reason: 'the body is not UTF-8 text',
    });
    check('ERROR bad batch id "x y"\n', { kind: 'error', reason: 'bad batch id "x y"' });
  });

  it('accepts a CRLF after a header (typed by hand in telnet)', () => {
    assert.deepEqual(decode(Buffer.from('Surveys received a1\r\n'))?.frame, {
      kind: 'received',
      id: 'a1',
    });
  });

  it('keeps reasons to one printable line', () => {
    const bytes = encode({ kind: 'error', reason: `two\nlines – and ${'z'.repeat(300)}` });
    assert.ok(bytes.length < 170);
    assert.equal(bytes.indexOf(0x0a), bytes.length - 1);
    assert.match(bytes.toString(), /^ERROR two lines \? and z+\n$/);
  });

  const bad: Array<[string, RegExp]> = [
    ['HELLO\n', /unknown frame "HELLO"/],
    ['BATCH a 1\n', /bad BATCH header/],
    ['BATCH a 1 2 3\n', /bad BATCH header/],
    ['BATCH a/b 1 2\n', /bad batch id "a\/b"/],
    ['BATCH a -1 2\n', /bad time "-1"/],
    ['BATCH a 1 x\n', /bad length "x"/],
    [`BATCH a 1 ${MAX_BODY_BYTES + 1}\n`, /is over/],
    ['Surveys received \n', /bad batch id ""/],
    [`${'A'.repeat(300)}`, /header longer than 256 bytes/],
  ];
  for (const [bytes, reason] of bad) {
    it(`refuses ${JSON.stringify(bytes.slice(0, 30))}`, () => {
      assert.throws(
        () => decode(Buffer.from(bytes)),
        (err: unknown) => err instanceof FrameError && reason.test(err.message),
      );
    });
  }

  it('refuses to encode what it could not decode', () => {
    assert.throws(() => encode({ kind: 'received', id: 'has space' }), FrameError);
    assert.throws(
      () => encode({ kind: 'batch', id: 'a', receivedAt: 1.5, body: Buffer.alloc(0) }),
      FrameError,
    );
    assert.throws(
      () =>
        encode({ kind: 'batch', id: 'a', receivedAt: 1, body: Buffer.alloc(MAX_BODY_BYTES + 1) }),
      FrameError,
    );
  });

  it('reassembles frames split across chunks, byte by byte', () => {
    const frames: Frame[] = [
      { kind: 'batch', id: 'one', receivedAt: 10, body: Buffer.from(BODY) },
      { kind: 'received', id: 'one' },
      { kind: 'batch', id: 'two', receivedAt: 11, body: Buffer.from('1.2.3.4 00:00 - 1 - 2%\n') },
    ];
    const bytes = Buffer.concat(frames.map(encode));
    const framer = new Framer();
    const got: Frame[] = [];
    for (let i = 0; i < bytes.length; i++) got.push(...framer.push(bytes.subarray(i, i + 1)));
    assert.deepEqual(got, frames);
    assert.equal(framer.buffered, 0);
  });

  it('hands out many frames from one chunk, keeping a partial one', () => {
    const answers = Array.from({ length: 50 }, (_, i) => encode({ kind: 'received', id: `b${i}` }));
    const framer = new Framer();
    const got = framer.push(Buffer.concat([...answers, Buffer.from('Surveys rec')]));
    assert.equal(got.length, 50);
    assert.equal(framer.buffered, 'Surveys rec'.length);
    assert.deepEqual(framer.push(Buffer.from('eived last\n')), [{ kind: 'received', id: 'last' }]);
  });

  it('round-trips any batch, however it is cut into chunks', () => {
    const frame = fc
      .record({
        kind: fc.constant('batch' as const),
        id: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/),
        receivedAt: fc.integer({ min: 0, max: 2 ** 45 }),
        body: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      })
      .map((f): Frame => ({ ...f }));
    fc.assert(
      fc.property(
        fc.array(frame, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (frames, cuts) => {
          const bytes = Buffer.concat(frames.map(encode));
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort(
            (a, b) => a - b,
          );
          const framer = new Framer();
          const got: Frame[] = [];
          let from = 0;
          for (const to of [...points, bytes.length]) {
            got.push(...framer.push(bytes.subarray(from, to)));
            from = to;
          }
          assert.deepEqual(got, frames);
        },
      ),
    );
  });

  it('never throws anything but a FrameError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          new Framer().push(Buffer.from(bytes));
        } catch (err) {
          assert.ok(err instanceof FrameError, String(err));
        }
      }),
    );
  });
});
