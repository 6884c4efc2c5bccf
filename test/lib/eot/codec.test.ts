// The EOT codec against byte fixtures: each fixture is decoded, encoded and
// round-tripped by one helper; bad frames get the spec's error code.
import assert from 'node:assert/strict';
import {
  decode,
  encode,
  encodeFromServer,
  Frame,
  FrameError,
  separatorByte,
} from '../../../lib/eot/codec';

const EOT = 0x04;
const bytes = (...parts: Array<string | number>) =>
  Buffer.concat(
    parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : Buffer.from(p, 'utf8'))),
  );

/** decode(bytes) is the frame, encode(frame) is the bytes, and both round-trip. */
function testParseGenerate(name: string, raw: Buffer, frame: Frame, separator?: number) {
  it(name, () => {
    assert.deepEqual(decode(raw, { separator }), frame, 'decode');
    assert.deepEqual(encode(frame, { separator }), raw, 'encode');
    assert.deepEqual(decode(encode(frame, { separator }), { separator }), frame, 'round trip');
  });
}

function testBad(name: string, raw: Buffer, code: string, separator?: number) {
  it(name, () => {
    assert.throws(
      () => decode(raw, { separator }),
      (err: unknown) => err instanceof FrameError && err.code === code,
    );
  });
}

describe('EOT codec', () => {
  describe('frames of the spec', () => {
    testParseGenerate(
      'HELLO with a nonce',
      // S E R V E R | * | H E L L O | 1 | <32 hex> EOT
      bytes('SERVER|*|HELLO|1|9f86d081884c7d659a2feaa0c55ad015', EOT),
      {
        origin: 'SERVER',
        destination: '*',
        type: 'HELLO',
        fields: ['1', '9f86d081884c7d659a2feaa0c55ad015'],
      },
    );
    testParseGenerate(
      'AUTH2 with its three fields',
      bytes('mkr-01|SERVER|AUTH2|mkr1000|9f86d081884c7d659a2feaa0c55ad015|', 'ab'.repeat(32), EOT),
      {
        origin: 'mkr-01',
        destination: 'SERVER',
        type: 'AUTH2',
        fields: ['mkr1000', '9f86d081884c7d659a2feaa0c55ad015', 'ab'.repeat(32)],
      },
    );
    testParseGenerate(
      'AUTHOK, a type without fields',
      // S E R V E R | m k r - 0 1 | A U T H O K EOT: no separator after the type
      Buffer.from([
        0x53, 0x45, 0x52, 0x56, 0x45, 0x52, 0x7c, 0x6d, 0x6b, 0x72, 0x2d, 0x30, 0x31, 0x7c, 0x41,
        0x55, 0x54, 0x48, 0x4f, 0x4b, 0x04,
      ]),
      { origin: 'SERVER', destination: 'mkr-01', type: 'AUTHOK', fields: [] },
    );
    testParseGenerate(
      'READING with an empty trailing ts',
      bytes('mkr-01|SERVER|READING|temperature|21.5|C|', EOT),
      {
        origin: 'mkr-01',
        destination: 'SERVER',
        type: 'READING',
        fields: ['temperature', '21.5', 'C', ''],
      },
    );
    testParseGenerate(
      'READING without its optional unit and ts',
      bytes('mkr-01|SERVER|READING|temperature|21.5', EOT),
      { origin: 'mkr-01', destination: 'SERVER', type: 'READING', fields: ['temperature', '21.5'] },
    );
    testParseGenerate('WRITE to a device', bytes('mkr-01|lamp-07|WRITE|led|on', EOT), {
      origin: 'mkr-01',
      destination: 'lamp-07',
      type: 'WRITE',
      fields: ['led', 'on'],
    });
    testParseGenerate('MSG to every device of the customer', bytes('app-3|*|MSG|hello', EOT), {
      origin: 'app-3',
      destination: '*',
      type: 'MSG',
      fields: ['hello'],
    });
    testParseGenerate(
      'MSG whose JSON payload holds the separator: the last field keeps it',
      // the payload {"a":"x|y"} contains 0x7C: MSG has one field, so it stays whole
      bytes('mkr-01|lamp-07|MSG|{"a":"x|y"}', EOT),
      { origin: 'mkr-01', destination: 'lamp-07', type: 'MSG', fields: ['{"a":"x|y"}'] },
    );
    testParseGenerate(
      'EVENT whose data holds the separator twice',
      bytes('mkr-01|SERVER|EVENT|boot|a|b|c', EOT),
      { origin: 'mkr-01', destination: 'SERVER', type: 'EVENT', fields: ['boot', 'a|b|c'] },
    );
    testParseGenerate('SUB with a condition', bytes('app-3|SERVER|SUB|temperature|>30', EOT), {
      origin: 'app-3',
      destination: 'SERVER',
      type: 'SUB',
      fields: ['temperature', '>30'],
    });
    testParseGenerate(
      'ERROR with code and text',
      bytes('SERVER|mkr-01|ERROR|FORBIDDEN|not your customer', EOT),
      {
        origin: 'SERVER',
        destination: 'mkr-01',
        type: 'ERROR',
        fields: ['FORBIDDEN', 'not your customer'],
      },
    );
    testParseGenerate('ACK|queued', bytes('SERVER|mkr-01|ACK|queued|lamp-07', EOT), {
      origin: 'SERVER',
      destination: 'mkr-01',
      type: 'ACK',
      fields: ['queued', 'lamp-07'],
    });
    testParseGenerate(
      'an unknown type: every separator splits',
      bytes('mkr-01|SERVER|X_CUSTOM|1|2|3', EOT),
      { origin: 'mkr-01', destination: 'SERVER', type: 'X_CUSTOM', fields: ['1', '2', '3'] },
    );
    testParseGenerate(
      'UTF-8 text in a payload',
      // "température" and "°C": multi-byte characters
      bytes('mkr-01|SERVER|READING|température|21,5|°C|1732190400000', EOT),
      {
        origin: 'mkr-01',
        destination: 'SERVER',
        type: 'READING',
        fields: ['température', '21,5', '°C', '1732190400000'],
      },
    );
    testParseGenerate(
      'another separator (;) configured',
      // the same WRITE with 0x3B between fields; | is then ordinary text
      bytes('mkr-01;lamp-07;WRITE;led|x;on', EOT),
      { origin: 'mkr-01', destination: 'lamp-07', type: 'WRITE', fields: ['led|x', 'on'] },
      0x3b,
    );
  });

  describe('bad frames', () => {
    testBad('no EOT at the end', bytes('mkr-01|SERVER|PING'), 'BAD_FRAME');
    testBad('more than 4096 bytes', bytes('a|b|MSG|', 'x'.repeat(4090), EOT), 'FRAME_TOO_LARGE');
    testBad(
      'binary garbage',
      Buffer.from([0xff, 0xfe, 0x00, 0x7c, 0x81, 0x7c, 0x90, EOT]),
      'BAD_FRAME',
    );
    testBad('a field that is not UTF-8', bytes('mkr-01|SERVER|MSG|', 0xc3, 0x28, EOT), 'BAD_FRAME');
    testBad(
      'another separator than the configured one',
      bytes('mkr-01;SERVER;PING', EOT),
      'BAD_FRAME',
    );
    testBad('an empty origin', bytes('|SERVER|PING', EOT), 'BAD_FRAME');
    testBad('an empty type', bytes('mkr-01|SERVER|', EOT), 'BAD_FRAME');
    testBad('an empty required field', bytes('mkr-01|lamp-07|WRITE||on', EOT), 'BAD_FRAME');
    testBad('a missing required field', bytes('mkr-01|lamp-07|WRITE|led', EOT), 'BAD_FRAME');
    testBad('an id of 65 characters', bytes('a'.repeat(65), '|SERVER|PING', EOT), 'BAD_FRAME');
    testBad(
      'a destination of 65 characters',
      bytes('mkr-01|', 'b'.repeat(65), '|MSG|x', EOT),
      'BAD_FRAME',
    );
    testBad('a type in lower case', bytes('mkr-01|SERVER|ping', EOT), 'BAD_FRAME');
    testBad('a type of 17 characters', bytes('mkr-01|SERVER|', 'A'.repeat(17), EOT), 'BAD_FRAME');
    testBad('fields after a type that has none', bytes('mkr-01|SERVER|PING|x', EOT), 'BAD_FRAME');
    testBad('two frames given as one', bytes('a|b|PING', EOT, 'a|b|PING', EOT), 'BAD_FRAME');
    testBad('an id with a space', bytes('mkr 01|SERVER|PING', EOT), 'BAD_FRAME');
  });

  describe('the encoder refuses what cannot come back unchanged', () => {
    const refuses = (frame: Frame, pattern: RegExp, separator?: number) =>
      assert.throws(() => encode(frame, { separator }), pattern);

    it('the separator in a field that is not the last', () => {
      refuses(
        { origin: 'a', destination: 'b', type: 'WRITE', fields: ['l|ed', 'on'] },
        /separator/,
      );
      refuses(
        { origin: 'a', destination: 'b', type: 'READING', fields: ['t', '1|2'] },
        /separator/,
      );
      refuses({ origin: 'a', destination: 'b', type: 'CUSTOM', fields: ['1|2'] }, /separator/);
    });
    it('EOT anywhere', () => {
      refuses({ origin: 'a', destination: 'b', type: 'MSG', fields: ['x\u0004'] }, /EOT/);
    });
    it('more fields than the type has, bad ids and types, empty required fields', () => {
      refuses({ origin: 'a', destination: 'b', type: 'PING', fields: ['x'] }, /at most 0/);
      refuses({ origin: '*', destination: 'b', type: 'PING', fields: [] }, /origin/);
      refuses({ origin: 'a', destination: 'b c', type: 'PING', fields: [] }, /destination/);
      refuses({ origin: 'a', destination: 'b', type: 'Ping', fields: [] }, /type/);
      refuses({ origin: 'a', destination: 'b', type: 'READ', fields: [''] }, /sensor/);
    });
    it('a frame over the limit, and lone surrogates', () => {
      refuses({ origin: 'a', destination: 'b', type: 'MSG', fields: ['x'.repeat(5000)] }, /4096/);
      refuses({ origin: 'a', destination: 'b', type: 'MSG', fields: ['\ud800'] }, /text/);
    });
  });

  describe('answers from the server', () => {
    it('go from SERVER, with a quoted text left out when it cannot be sent', () => {
      const options = { maxFrameBytes: 64 };
      assert.deepEqual(decode(encodeFromServer('mkr-01', 'ERROR', ['FORBIDDEN', 'no'], options)), {
        origin: 'SERVER',
        destination: 'mkr-01',
        type: 'ERROR',
        fields: ['FORBIDDEN', 'no'],
      });
      const long = encodeFromServer('mkr-01', 'ERROR', ['BAD_FRAME', 'x'.repeat(100)], options);
      assert.deepEqual(decode(long).fields, ['BAD_FRAME']);
      assert.throws(
        () => encodeFromServer('mkr 01', 'ERROR', ['BAD_FRAME'], options),
        /destination/,
      );
    });
  });

  describe('separator setting', () => {
    it('accepts one byte other than EOT, NUL, CR, LF', () => {
      assert.equal(separatorByte(undefined), 0x7c);
      assert.equal(separatorByte(';'), 0x3b);
      assert.equal(separatorByte(0x1f), 0x1f);
      for (const bad of ['\u0004', '\u0000', '\r', '\n', '||', 'é'])
        assert.throws(() => separatorByte(bad), /separator/);
    });
  });
});
