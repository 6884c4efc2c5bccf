// The framer: frames split across chunks, many frames in one chunk, the size
// limit, and random input that must never make it throw or hold more than the
// maximum frame size.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decode, encode, Frame } from '../../../lib/eot/codec';
import { FIELDS } from '../../../lib/eot/constants';
import { Framer } from '../../../lib/eot/framer';

function collect(framer: Framer, chunks: Buffer[]): { frames: string[]; ok: boolean } {
  const frames: string[] = [];
  let ok = true;
  for (const chunk of chunks) ok = framer.push(chunk, (f) => void frames.push(f.toString())) && ok;
  return { frames, ok };
}

const three = Buffer.from('a|SERVER|PING\u0004b|c|MSG|hello|world\u0004SERVER|a|PONG\u0004');
const expected = ['a|SERVER|PING\u0004', 'b|c|MSG|hello|world\u0004', 'SERVER|a|PONG\u0004'];

describe('EOT framer', () => {
  it('yields many frames from one chunk, in order', () => {
    assert.deepEqual(collect(new Framer(), [three]).frames, expected);
  });

  it('joins a frame split across chunks, at every possible cut', () => {
    for (let cut = 0; cut <= three.length; cut++) {
      const { frames } = collect(new Framer(), [three.subarray(0, cut), three.subarray(cut)]);
      assert.deepEqual(frames, expected, `cut at ${cut}`);
    }
  });

  it('handles one byte at a time', () => {
    const chunks = [...three].map((b) => Buffer.from([b]));
    const framer = new Framer();
    const { frames } = collect(framer, chunks);
    assert.deepEqual(frames, expected);
    assert.equal(framer.buffered, 0);
  });

  it('accepts a frame of exactly the maximum size and refuses one byte more', () => {
    const exact = Buffer.concat([Buffer.from('a|b|MSG|'), Buffer.alloc(24, 'x'), Buffer.from([4])]);
    assert.equal(exact.length, 33);
    assert.deepEqual(collect(new Framer(33), [exact]).frames, [exact.toString()]);
    const framer = new Framer(32);
    const { frames, ok } = collect(framer, [exact]);
    assert.deepEqual(frames, []);
    assert.equal(ok, false);
    assert.ok(framer.overflow);
  });

  it('fails as soon as bytes without EOT reach the maximum, holding no more', () => {
    const framer = new Framer(100);
    assert.equal(
      framer.push(Buffer.alloc(60, 'x'), () => undefined),
      true,
    );
    assert.equal(framer.buffered, 60);
    assert.equal(
      framer.push(Buffer.alloc(40, 'x'), () => undefined),
      false,
    );
    assert.equal(framer.buffered, 0);
    assert.equal(
      framer.push(Buffer.from('a|b|PING\u0004'), () => assert.fail('after overflow')),
      false,
    );
  });

  it('stops when told, dropping the rest of the chunk', () => {
    const framer = new Framer();
    const seen: string[] = [];
    framer.push(three, (f) => {
      seen.push(f.toString());
      return false;
    });
    assert.deepEqual(seen, [expected[0]]);
    assert.equal(framer.buffered, 0);
  });

  it('never throws and never holds more than the maximum, on random input', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 300 }),
        fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 30 }),
        fc.boolean(),
        (max, arrays, eotHeavy) => {
          const framer = new Framer(max);
          const chunks = arrays.map((a) =>
            Buffer.from(eotHeavy ? a.map((b) => (b % 7 === 0 ? 4 : b)) : a),
          );
          const all = Buffer.concat(chunks);
          const frames: Buffer[] = [];
          let ok = true;
          for (const chunk of chunks) {
            ok = framer.push(chunk, (f) => void frames.push(Buffer.from(f))) && ok;
            assert.ok(framer.buffered < max, `holds ${framer.buffered} of ${max}`);
          }
          for (const f of frames) {
            assert.ok(f.length <= max);
            assert.equal(f[f.length - 1], 4);
          }
          if (ok) {
            // Without overflow, the frames are exactly the input up to its last EOT.
            const last = all.lastIndexOf(4);
            assert.deepEqual(Buffer.concat(frames), all.subarray(0, last + 1));
            assert.equal(framer.buffered, all.length - last - 1);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('encode and decode round-trip any frame the encoder accepts, through random chunking', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/);
    const text = fc.string({ unit: 'grapheme', maxLength: 40 });
    const type = fc.oneof(
      fc.constantFrom(...Object.keys(FIELDS)),
      fc.stringMatching(/^[A-Z0-9_]{1,16}$/),
    );
    const frame = fc
      .record({
        origin: id,
        destination: fc.oneof(id, fc.constant('*')),
        type,
        fields: fc.array(text, { maxLength: 5 }),
      })
      .map((f) => ({ ...f }));
    let total = 0;
    fc.assert(
      fc.property(
        fc.array(frame, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 50 }),
        (frames, step) => {
          const encoded: Buffer[] = [];
          const accepted: Frame[] = [];
          for (const f of frames) {
            try {
              encoded.push(encode(f));
              accepted.push(f);
            } catch {
              // refused: the decoder could not give it back unchanged
            }
          }
          const stream = Buffer.concat(encoded);
          const framer = new Framer();
          const decoded: Frame[] = [];
          for (let i = 0; i < stream.length; i += step)
            framer.push(stream.subarray(i, i + step), (raw) => void decoded.push(decode(raw)));
          assert.deepEqual(decoded, accepted);
          total += accepted.length;
        },
      ),
      { numRuns: 300 },
    );
    assert.ok(total > 300, `only ${total} frames were accepted: the property tested little`);
  });
});
