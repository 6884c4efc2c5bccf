// The survey line: the seed's datagrams and files parse, every bad line is
// refused with its number and a reason that names the field, formatting
// round-trips, and readings are dated by the arrival time.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import {
  describeProblems,
  formatPrintedLine,
  formatSurveyLine,
  parseSurveyLine,
  parseSurveyLines,
  Survey,
  SurveyLineError,
  surveyTime,
} from '../../../lib/surveys/survey-line';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'surveys');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

describe('survey lines', () => {
  it("parses the seed's datagram, skipping its blank lines and keeping line numbers", () => {
    const { surveys, errors } = parseSurveyLines(fixture('seed-datagram.txt'));
    assert.deepEqual(errors, []);
    assert.deepEqual(surveys, [
      { ip: '192.168.1.2', time: '08:00', temperature: 20, humidity: 30, line: 1 },
      { ip: '192.168.1.2', time: '12:00', temperature: 25, humidity: 33, line: 3 },
      { ip: '192.168.1.2', time: '16:00', temperature: 23, humidity: 32, line: 5 },
      { ip: '192.168.1.2', time: '20:00', temperature: 21, humidity: 28, line: 7 },
    ]);
  });

  it("takes the sender's ip for lines without one, with CRLF line ends", () => {
    const { surveys, errors } = parseSurveyLines(fixture('surveys-file-crlf.txt'), '10.0.0.7');
    assert.deepEqual(errors, []);
    assert.deepEqual(surveys.map(formatSurveyLine), [
      '10.0.0.7 07:00 - 18 - 28%',
      '10.0.0.7 10:00 - 22 - 38%',
      '10.0.0.7 13:00 - 27 - 42%',
      '10.0.0.7 21:00 - 20 - 19%',
    ]);
  });

  it('reads decimals, signs, IPv6 and extra spaces', () => {
    assert.deepEqual(parseSurveyLine('  fe80::1   23:59  -  -3.25 -  99.5%  '), {
      ip: 'fe80::1',
      time: '23:59',
      temperature: -3.25,
      humidity: 99.5,
    });
    assert.deepEqual(parseSurveyLine('192.168.1.9 00:00 - +0 - 0%'), {
      ip: '192.168.1.9',
      time: '00:00',
      temperature: 0,
      humidity: 0,
    });
    assert.ok(Object.is(parseSurveyLine('1.2.3.4 00:00 - -0 - 0%').temperature, 0), 'no -0');
  });

  const bad: Array<[string, RegExp]> = [
    ['192.168.1.2 08:00 - 20', /expected "\[ip \]HH:MM - temperature - humidity%": found 2 parts/],
    ['192.168.1.2 - 08:00 - 20 - 30%', /found 4 parts/],
    ['192.168.1.2 08:00 -20 - 30%', /found 2 parts/],
    ['a b c - 20 - 30%', /"a b c" has more than an ip and a time/],
    ['192.168.1.300 08:00 - 20 - 30%', /"192\.168\.1\.300" is not an ip address/],
    ['meter-1 08:00 - 20 - 30%', /"meter-1" is not an ip address/],
    ['192.168.1.2 8:00 - 20 - 30%', /time "8:00" is not HH:MM/],
    ['192.168.1.2 24:00 - 20 - 30%', /time "24:00" is not a time of day \(00:00 to 23:59\)/],
    ['192.168.1.2 12:60 - 20 - 30%', /time "12:60" is not a time of day/],
    ['192.168.1.2 08:00 - warm - 30%', /temperature "warm" is not a number/],
    ['192.168.1.2 08:00 - 20,5 - 30%', /temperature "20,5" is not a number/],
    ['192.168.1.2 08:00 - 1e2 - 30%', /temperature "1e2" is not a number/],
    ['192.168.1.2 08:00 - 150 - 30%', /temperature 150 is out of range \(-60 to 100 °C\)/],
    ['192.168.1.2 08:00 - -61 - 30%', /temperature -61 is out of range/],
    ['192.168.1.2 08:00 - 20 - 30', /humidity "30" lacks its % sign/],
    ['192.168.1.2 08:00 - 20 - wet%', /humidity "wet%" is not a percentage such as 30%/],
    ['192.168.1.2 08:00 - 20 - -5%', /humidity "-5%" is not a percentage/],
    ['192.168.1.2 08:00 - 20 - 130%', /humidity 130% is over 100%/],
    ['08:00 - 20 - 30%', /no meter ip: the line has none and the sender's address is unknown/],
    [`192.168.1.2 08:00 - 20 - 30% ${'x'.repeat(200)}`, /longer than 200 characters/],
  ];
  for (const [line, reason] of bad) {
    it(`refuses ${JSON.stringify(line.slice(0, 40))} saying why`, () => {
      assert.throws(
        () => parseSurveyLine(line),
        (err: unknown) => err instanceof SurveyLineError && reason.test(err.message),
      );
    });
  }

  it("refuses a sender's address that is no ip", () => {
    assert.throws(
      () => parseSurveyLine('08:00 - 20 - 30%', 'gateway'),
      /sender's address "gateway" is not an ip address/,
    );
  });

  it('reports each bad line with its number and text, and keeps the good ones', () => {
    const text =
      '192.168.1.2 08:00 - 20 - 30%\n\n192.168.1.2 12:00 - 25 - 133%\n192.168.1.2 16:00 - 23 - 32%\ngarbage\n';
    const { surveys, errors } = parseSurveyLines(text);
    assert.deepEqual(
      surveys.map((s) => s.line),
      [1, 4],
    );
    assert.deepEqual(errors, [
      { line: 3, text: '192.168.1.2 12:00 - 25 - 133%', reason: 'humidity 133% is over 100%' },
      {
        line: 5,
        text: 'garbage',
        reason:
          'expected "[ip ]HH:MM - temperature - humidity%": found 1 part separated by " - " instead of 3',
      },
    ]);
    assert.equal(
      describeProblems(errors),
      '2 bad survey lines: line 3 "192.168.1.2 12:00 - 25 - 133%": humidity 133% is over 100%; ' +
        'line 5 "garbage": expected "[ip ]HH:MM - temperature - humidity%": found 1 part separated by " - " instead of 3',
    );
  });

  it('keeps error messages short for many or long bad lines', () => {
    const { errors } = parseSurveyLines(
      Array.from({ length: 15 }, (_, i) => `bad line ${i} ${'y'.repeat(80)}`).join('\n'),
    );
    assert.equal(errors.length, 15);
    assert.ok(errors.every((e) => e.text.length <= 60));
    assert.match(describeProblems(errors), /^15 bad survey lines: line 1 .*; and 5 more$/);
  });

  it('formats the line as sent and as the cloud prints it', () => {
    const survey: Survey = { ip: '192.168.1.2', time: '08:00', temperature: 20.5, humidity: 30 };
    assert.equal(formatSurveyLine(survey), '192.168.1.2 08:00 - 20.5 - 30%');
    assert.equal(formatPrintedLine(survey), '192.168.1.2 – 08:00 – 20.5 – 30%');
  });

  it('round-trips any valid survey through format and parse', () => {
    const twoDigits = (max: number) =>
      fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
    const survey = fc.record({
      ip: fc.oneof(fc.ipV4(), fc.ipV6()),
      time: fc.tuple(twoDigits(23), twoDigits(59)).map(([h, m]) => `${h}:${m}`),
      temperature: fc.integer({ min: -60_000, max: 100_000 }).map((n) => n / 1000),
      humidity: fc.integer({ min: 0, max: 100_000 }).map((n) => n / 1000),
    });
    fc.assert(
      fc.property(survey, (s) => {
        assert.deepEqual(parseSurveyLine(formatSurveyLine(s)), {
          ...s,
          temperature: s.temperature === 0 ? 0 : s.temperature,
        });
      }),
    );
  });

  it('never throws anything but a SurveyLineError on random input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (text) => {
        try {
          parseSurveyLine(text, '10.0.0.1');
        } catch (err) {
          assert.ok(err instanceof SurveyLineError, String(err));
        }
        const { surveys, errors } = parseSurveyLines(text, '10.0.0.1');
        assert.ok(surveys.length + errors.length <= text.split('\n').length);
      }),
    );
  });

  describe('dating a reading by its arrival', () => {
    // Local times, as meters report their wall clock.
    const at = (d: number, h: number, m: number) => new Date(2026, 10, d, h, m).getTime();

    it('puts a time before the arrival on the same day', () => {
      assert.equal(surveyTime('08:00', at(21, 9, 30)), at(21, 8, 0));
      assert.equal(surveyTime('09:30', at(21, 9, 30)), at(21, 9, 30));
    });

    it('puts a later time on the day before (the previous 24 hours)', () => {
      assert.equal(surveyTime('20:00', at(21, 9, 30)), at(20, 20, 0));
      assert.equal(surveyTime('23:59', at(1, 0, 5)), new Date(2026, 9, 31, 23, 59).getTime());
    });

    it("allows a meter's clock to run a few minutes ahead", () => {
      assert.equal(surveyTime('09:38', at(21, 9, 30)), at(21, 9, 38));
      assert.equal(surveyTime('09:41', at(21, 9, 30)), at(20, 9, 41));
    });
  });
});
