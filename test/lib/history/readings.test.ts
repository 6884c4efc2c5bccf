// Messages into points: every payload form, tags from the node, segments and
// deviceId, declared and inferred field types, and a clear error per bad
// point while the good points of the same message are kept.
import assert from 'node:assert/strict';
import { FieldTyping, parseFieldTypes } from '../../../lib/history/field-types';
import { parseLine } from '../../../lib/history/line-protocol';
import { convertMessage, ReadingMessage, ReadingOptions } from '../../../lib/history/readings';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

function convert(msg: ReadingMessage, options: Partial<ReadingOptions> = {}) {
  const result = convertMessage(msg, {
    typing: new FieldTyping(
      parseFieldTypes(
        options.typing ? undefined : '{"counter":{"count":"integer"},"note":{"text":"string"}}',
      ),
    ),
    precision: 'ms',
    now: NOW,
    maxFutureMs: 3600_000,
    ...options,
  });
  return { ...result, points: result.lines.map(parseLine) };
}

describe('readings', () => {
  it('takes a number, with tags from segments, deviceId and the node', () => {
    const { points, errors } = convert(
      {
        payload: 21.5,
        segments: {
          site: 'UT3',
          building: 'u4',
          room: '300',
          kind: 'temperature',
          location: ['u4', '300'],
        },
        deviceId: 'mkr-01',
      },
      { tags: { source: 'mqtt' } },
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(points, [
      {
        measurement: 'temperature',
        tags: {
          source: 'mqtt',
          site: 'UT3',
          building: 'u4',
          room: '300',
          kind: 'temperature',
          location: 'u4/300',
          device: 'mkr-01',
        },
        fields: { value: { type: 'float', value: 21.5 } },
        timeNs: `${NOW}000000`,
      },
    ]);
  });

  it('prefers the node measurement, then msg.measurement, then the segment kind', () => {
    assert.equal(
      convert({ payload: 1, measurement: 'm', segments: { kind: 'k' } }, { measurement: 'node' })
        .points[0].measurement,
      'node',
    );
    assert.equal(
      convert({ payload: 1, measurement: 'm', segments: { kind: 'k' } }).points[0].measurement,
      'm',
    );
    assert.equal(convert({ payload: 1, segments: { kind: 'k' } }).points[0].measurement, 'k');
    assert.deepEqual(convert({ payload: 1 }).errors, [
      'no measurement: set one on the node, or msg.measurement',
    ]);
  });

  it('takes an object of fields, a sensOCampus payload, and an array of points', () => {
    const object = convert({
      payload: { temp: 21, hum: '40.5', time: NOW - 1000 },
      measurement: 'air',
    });
    assert.deepEqual(object.points[0].fields, {
      temp: { type: 'float', value: 21 },
      hum: { type: 'float', value: 40.5 },
    });
    assert.equal(object.points[0].timeNs, `${NOW - 1000}000000`);

    const sensor = convert({
      payload: { value: [21.5, 22], value_units: 'celsius', unitID: 'u1', subID: 's2' },
      measurement: 't',
    });
    assert.deepEqual(sensor.points[0].tags, { unit: 'celsius', unitID: 'u1', subID: 's2' });
    assert.deepEqual(Object.keys(sensor.points[0].fields), ['value_0', 'value_1']);

    const array = convert({
      payload: [
        {
          measurement: 'counter',
          fields: { count: 3 },
          tags: { room: '1' },
          time: new Date(NOW - 5),
        },
        7,
        { value: 8, time: '2026-11-21T11:00:00Z' },
      ],
      measurement: 'x',
    });
    assert.deepEqual(array.errors, []);
    assert.deepEqual(
      array.points.map((p) => [p.measurement, p.fields, p.tags, p.timeNs]),
      [
        ['counter', { count: { type: 'integer', value: 3 } }, { room: '1' }, `${NOW - 5}000000`],
        ['x', { value: { type: 'float', value: 7 } }, {}, `${NOW}000000`],
        ['x', { value: { type: 'float', value: 8 } }, {}, `${Date.UTC(2026, 10, 21, 11)}000000`],
      ],
    );
  });

  it('refuses bad points one by one and keeps the good ones', () => {
    const { points, errors } = convert({
      measurement: 'counter',
      payload: [
        { count: 1 },
        { count: 1.5 },
        { count: 'many' },
        { count: 2, time: NOW + 2 * 86_400_000 },
        { count: null },
        { count: 3 },
        [1],
      ],
    });
    assert.deepEqual(
      points.map((p) => p.fields.count.value),
      [1, 3],
    );
    assert.equal(errors.length, 5);
    assert.match(errors[0], /^point 1: field count of counter must be an integer, not 1\.5/);
    assert.match(errors[1], /^point 2: field count of counter must be an integer, not "many"/);
    assert.match(errors[2], /^point 3: time .* is more than 3600 s in the future/);
    assert.match(errors[3], /^point 4: field count has no value/);
    assert.match(errors[4], /^point 6: the payload is an array, not a reading/);
  });

  it('refuses text in a numeric field unless declared as a string', () => {
    assert.match(
      convert({ payload: 'warm', measurement: 't' }).errors[0],
      /field value of t is not a number: "warm"/,
    );
    assert.deepEqual(
      convert({ payload: { text: 'door open' }, measurement: 'note' }).points[0].fields,
      {
        text: { type: 'string', value: 'door open' },
      },
    );
    assert.match(convert({ payload: NaN, measurement: 't' }).errors[0], /is NaN/);
  });

  it('refuses a field whose type changes, before InfluxDB would', () => {
    const typing = new FieldTyping({});
    const options = { typing, precision: 'ms' as const, now: NOW, maxFutureMs: 1000 };
    assert.deepEqual(convertMessage({ payload: 1, measurement: 'm' }, options).errors, []);
    assert.match(
      convertMessage({ payload: true, measurement: 'm' }, options).errors[0],
      /field value of m is written as float; true would make it boolean/,
    );
  });

  it('escapes tags with spaces, commas and equals signs, and refuses a line break', () => {
    const { points } = convert({ payload: 1, measurement: 'm', tags: { room: 'hall 1, east=2' } });
    assert.deepEqual(points[0].tags, { room: 'hall 1, east=2' });
    assert.match(
      convert({ payload: 1, measurement: 'm', tags: { room: 'a\nb' } }).errors[0],
      /line break/,
    );
    assert.match(convert({ payload: 1, measurement: '' }).errors[0], /no measurement/);
  });

  it('checks declared field types', () => {
    assert.throws(
      () => parseFieldTypes('{"m":{"f":"double"}}'),
      /must be one of float, integer, boolean, string/,
    );
    assert.throws(() => parseFieldTypes('not json'), /not valid JSON/);
    assert.deepEqual(parseFieldTypes({ m: { '*': 'integer' } }), { m: { '*': 'integer' } });
  });
});
