// Line protocol: escaping of every special character, refusal of what
// InfluxDB 1.x cannot carry, nanosecond times per precision, and a random
// round trip through our parser.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  checkPoint,
  encodePoint,
  nanoseconds,
  parseLine,
  seriesKey,
} from '../../../lib/history/line-protocol';
import { Point, PointError } from '../../../lib/history/point';

const T = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

function point(partial: Partial<Point>): Point {
  return {
    measurement: 'temperature',
    tags: {},
    fields: { value: { type: 'float', value: 21.5 } },
    time: T,
    ...partial,
  };
}

describe('line protocol', () => {
  it('encodes a point with sorted tags, typed fields and nanoseconds', () => {
    const line = encodePoint(
      point({
        tags: { room: '300', building: 'u4' },
        fields: {
          value: { type: 'float', value: 21.5 },
          count: { type: 'integer', value: 3 },
          on: { type: 'boolean', value: true },
          label: { type: 'string', value: 'ok' },
        },
      }),
      'ms',
    );
    assert.equal(
      line,
      `temperature,building=u4,room=300 value=21.5,count=3i,on=true,label="ok" ${T}000000`,
    );
  });

  it('escapes spaces, commas and equals signs in names, quotes and backslashes in strings', () => {
    const line = encodePoint(
      point({
        measurement: 'air temp,inside',
        tags: { 'the room': 'hall, east=1' },
        fields: { 'a b': { type: 'string', value: 'say "hi" \\o/' } },
      }),
      'ms',
    );
    assert.equal(
      line,
      `air\\ temp\\,inside,the\\ room=hall\\,\\ east\\=1 a\\ b="say \\"hi\\" \\\\o/" ${T}000000`,
    );
    const parsed = parseLine(line);
    assert.equal(parsed.measurement, 'air temp,inside');
    assert.deepEqual(parsed.tags, { 'the room': 'hall, east=1' });
    assert.deepEqual(parsed.fields['a b'], { type: 'string', value: 'say "hi" \\o/' });
  });

  it('rounds times down to the precision', () => {
    assert.equal(nanoseconds(T, 'ms'), `${T}000000`);
    assert.equal(nanoseconds(T, 's'), `${T - 678}000000`);
    assert.equal(nanoseconds(T, 'm'), `${T - 5678}000000`);
    assert.equal(nanoseconds(T, 'h'), `${T - 245678}000000`);
    assert.equal(nanoseconds(T + 0.123, 'u'), `${T}123000`);
    assert.equal(nanoseconds(0, 'ms'), '0');
    assert.equal(nanoseconds(-1500, 's'), '-2000000000');
  });

  it('refuses what InfluxDB cannot store faithfully, naming it', () => {
    const cases: Array<[Partial<Point>, RegExp]> = [
      [{ measurement: '' }, /measurement is empty/],
      [{ measurement: '#comment' }, /starts with "#"/],
      [{ measurement: 'a\nb' }, /line break/],
      [{ tags: { room: 'a\\' } }, /backslash/],
      [{ tags: { time: 'x' } }, /"time" is reserved/],
      [{ tags: { room: '' } }, /tag room is empty/],
      [{ fields: {} }, /no fields/],
      [{ fields: { time: { type: 'float', value: 1 } } }, /"time" is reserved/],
      [{ fields: { s: { type: 'string', value: 'two\nlines' } } }, /line break/],
    ];
    for (const [partial, message] of cases) {
      assert.throws(
        () => checkPoint(point(partial)),
        (err: Error) => {
          assert.ok(err instanceof PointError);
          assert.match(err.message, message);
          return true;
        },
      );
    }
  });

  it('round-trips random points through encode and parse', () => {
    const name = fc
      .string({
        minLength: 1,
        maxLength: 12,
        unit: fc.constantFrom('a', 'Z', '9', ' ', ',', '=', '"', 'é', '_', '-'),
      })
      .filter((s) => s !== 'time' && !s.startsWith('#'));
    const field = fc.oneof(
      fc
        .double({ noNaN: true, noDefaultInfinity: true })
        .map((value) => ({ type: 'float' as const, value })),
      fc.maxSafeInteger().map((value) => ({ type: 'integer' as const, value })),
      fc.boolean().map((value) => ({ type: 'boolean' as const, value })),
      fc
        .string({ maxLength: 10 })
        .filter((s) => !/[\r\n]/.test(s))
        .map((value) => ({ type: 'string' as const, value })),
    );
    fc.assert(
      fc.property(
        name,
        fc.dictionary(name, name, { maxKeys: 3 }),
        fc.dictionary(name, field, { minKeys: 1, maxKeys: 3 }),
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        (measurement, tags, fields, time) => {
          const p: Point = { measurement, tags, fields, time };
          checkPoint(p);
          const parsed = parseLine(encodePoint(p, 'ms'));
          assert.equal(parsed.measurement, measurement);
          assert.deepEqual(parsed.tags, { ...tags });
          assert.equal(parsed.timeNs, nanoseconds(time, 'ms'));
          for (const [k, f] of Object.entries(fields)) {
            // -0 is written as "0" by String(); InfluxDB stores it the same way.
            const expected = Object.is(f.value, -0) ? 0 : f.value;
            assert.deepEqual(parsed.fields[k], { type: f.type, value: expected }, k);
          }
          assert.equal(seriesKey(parsed), seriesKey(p));
        },
      ),
      { numRuns: 500 },
    );
  });
});
