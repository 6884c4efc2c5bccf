// Topic segmentation (topics.md): parse and build are exact inverses over the
// spec's real topics, and every malformed topic gets an error naming its fault.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ParsedTopic, TopicCodec } from '../../../lib/topics/topic';
import { TopicError } from '../../../lib/topics/validate';

const codec = new TopicCodec('UT3');

type Row = [string, Partial<ParsedTopic>];

// Topics from topics.md and seed 002, with what they mean.
const REAL_TOPICS: Row[] = [
  [
    'u4/300/temperature',
    {
      site: 'UT3',
      outdoor: false,
      location: ['u4', '300'],
      building: 'u4',
      room: '300',
      kind: 'temperature',
      base: 'u4/300',
    },
  ],
  ['bu/hall/luminosity', { building: 'bu', room: 'hall', kind: 'luminosity', base: 'bu/hall' }],
  [
    'u4/hall/box1/temperature',
    { location: ['u4', 'hall', 'box1'], building: 'u4', room: 'hall', base: 'u4/hall/box1' },
  ],
  ['u4/campusfab/temperature', { room: 'campusfab', kind: 'temperature' }],
  ['u4/301/co2', { kind: 'co2', command: false, status: false }],
  [
    'u4/campusfab/shutter/command',
    { kind: 'shutter', command: true, status: false, base: 'u4/campusfab' },
  ],
  ['u4/campusfab/shutter', { kind: 'shutter', command: false, status: false }],
  ['u4/300/lighting/command', { kind: 'lighting', command: true }],
  ['u4/300/device', { kind: 'device', status: true, command: false, base: 'u4/300' }],
  ['u4/300/device/command', { kind: 'device', status: false, command: true }],
  [
    'outside/ambient/rain',
    {
      site: 'UT3',
      outdoor: true,
      location: ['ambient'],
      building: null,
      room: null,
      kind: 'rain',
      base: 'outside/ambient',
    },
  ],
  ['outside/ambient/temperature', { outdoor: true, location: ['ambient'] }],
  ['outside/access/presence', { outdoor: true, location: ['access'], kind: 'presence' }],
  ['outside/humidity', { outdoor: true, location: [], base: 'outside' }],
  [
    'abroad/carcassonne/b1/12/temperature',
    {
      site: 'carcassonne',
      outdoor: false,
      location: ['b1', '12'],
      building: 'b1',
      room: '12',
      base: 'abroad/carcassonne/b1/12',
    },
  ],
  [
    'abroad/carcassonne/outside/humidity',
    { site: 'carcassonne', outdoor: true, location: [], building: null, room: null },
  ],
  [
    'abroad/carcassonne/outside/ambient/sound',
    { site: 'carcassonne', outdoor: true, location: ['ambient'], kind: 'sound' },
  ],
  [
    'abroad/carcassonne/b1/12/shutter/command',
    { site: 'carcassonne', command: true, kind: 'shutter' },
  ],
  ['abroad/carcassonne/b1/12/device', { site: 'carcassonne', status: true }],
  ['u4/300/energy', { kind: 'energy' }],
];

describe('topics: parse and build', () => {
  for (const [topic, expected] of REAL_TOPICS) {
    it(`${topic}`, () => {
      const parsed = codec.parse(topic);
      for (const [key, value] of Object.entries(expected)) {
        assert.deepEqual(parsed[key as keyof ParsedTopic], value, `${key} of ${topic}`);
      }
      assert.equal(codec.build(parsed), topic, 'build(parse(t)) === t');
      assert.equal(codec.buildBase(parsed), parsed.base);
      assert.deepEqual(codec.parseBase(parsed.base), {
        site: parsed.site,
        outdoor: parsed.outdoor,
        location: parsed.location,
        building: parsed.building,
        room: parsed.room,
        base: parsed.base,
      });
    });
  }

  it('takes the default site from its setting', () => {
    const other = new TopicCodec('carcassonne');
    assert.equal(other.parse('b1/12/temperature').site, 'carcassonne');
    assert.equal(other.parse('abroad/UT3/u4/300/temperature').site, 'UT3');
    assert.equal(
      other.build({ site: 'UT3', location: ['u4', '300'], kind: 'temperature' }),
      'abroad/UT3/u4/300/temperature',
    );
    assert.throws(() => new TopicCodec('bad/site'), /default site "bad\/site"/);
  });

  it('builds from building and room, and from a status flag', () => {
    assert.equal(
      codec.build({ building: 'u4', room: '300', kind: 'shutter', command: true }),
      'u4/300/shutter/command',
    );
    assert.equal(codec.build({ location: ['u4', '300'], status: true }), 'u4/300/device');
    assert.equal(
      codec.build({ outdoor: true, location: ['ambient'], kind: 'rain' }),
      'outside/ambient/rain',
    );
    assert.equal(
      codec.build({ site: 'carcassonne', outdoor: true, kind: 'humidity' }),
      'abroad/carcassonne/outside/humidity',
    );
  });

  const BAD_TOPICS: Array<[unknown, RegExp]> = [
    ['u4//temperature', /level 2 is empty/],
    ['/u4/300/temperature', /level 1 is empty/],
    ['u4/300/temperature/', /level 4 is empty/],
    ['u4/+/temperature', /level 2 \("\+"\) has a wildcard/],
    ['u4/300/#', /level 3 \("#"\) has a wildcard/],
    ['u4/300/temp#', /wildcard/],
    ['', /topic is empty/],
    [42, /must be a string, got number/],
    ['u4/300/Temperature', /kind "Temperature" must be lower-case/],
    ['u4/temperature', /names a building and a room/],
    ['temperature', /no base topic/],
    ['u4/300/shutter/command/command', /"command" is reserved/],
    [
      'abroad/UT3/u4/300/temperature',
      /UT3 is the default site, written without the abroad\/ prefix/,
    ],
    ['abroad/temperature', /abroad\/ must be followed by a site/],
    ['abroad/carcassonne/temperature', /names a building and a room/],
    ['$SYS/broker/uptime', /belong to the broker/],
    ['u4/300/temp\u0000', /NUL/],
  ];
  for (const [topic, message] of BAD_TOPICS) {
    it(`rejects ${JSON.stringify(topic)}`, () => {
      assert.throws(
        () => codec.parse(topic),
        (err: unknown) => err instanceof TopicError && message.test(err.message),
      );
    });
  }

  const BAD_BUILDS: Array<[Record<string, unknown>, RegExp]> = [
    [{ location: ['u4'], kind: 'temperature' }, /names a building and a room/],
    [{ location: ['u4', '3+0'], kind: 'temperature' }, /location level 2/],
    [{ location: ['u4', ''], kind: 'temperature' }, /location level 2/],
    [{ location: ['outside', 'x'], kind: 'temperature' }, /"outside" is reserved/],
    [{ location: ['abroad', 'x'], kind: 'temperature' }, /"abroad" is reserved/],
    [{ location: ['u4', '300'], building: 'u5', kind: 'temperature' }, /disagree/],
    [{ outdoor: true, building: 'u4', kind: 'rain' }, /no building or room/],
    [{ location: ['u4', '300'] }, /no kind/],
    [{ location: ['u4', '300'], kind: 'command' }, /reserved/],
    [{ location: ['u4', '300'], kind: 'shutter', status: true }, /ends with \/device/],
    [{ location: ['u4', '300'], kind: 'device', status: false }, /status cannot be false/],
    [{ location: ['u4', '300'], status: true, command: true }, /not both/],
    [{ site: 'a/b', location: ['u4', '300'], kind: 'x' }, /site "a\/b"/],
    [{ location: 'u4/300', kind: 'x' }, /list of levels/],
  ];
  for (const [fields, message] of BAD_BUILDS) {
    it(`refuses to build ${JSON.stringify(fields)}`, () => {
      assert.throws(
        () => codec.build(fields as never),
        (err: unknown) => err instanceof TopicError && message.test(err.message),
      );
    });
  }

  it('round-trips random segments: parse(build(s)) equals s', () => {
    const level = fc
      .stringMatching(/^[a-z0-9][a-z0-9_-]{0,5}$/)
      .filter((l) => l !== 'outside' && l !== 'abroad');
    const segments = fc.record({
      site: fc.constantFrom('UT3', 'carcassonne', 'albi'),
      outdoor: fc.boolean(),
      location: fc.array(level, { minLength: 0, maxLength: 4 }),
      kind: fc.oneof(
        level.filter((k) => k !== 'command'),
        fc.constant('device'),
      ),
      command: fc.boolean(),
    });
    fc.assert(
      fc.property(segments, (s) => {
        fc.pre(s.outdoor || s.location.length >= 2);
        const full = {
          ...s,
          building: s.outdoor ? null : s.location[0],
          room: s.outdoor ? null : s.location[1],
          status: s.kind === 'device' && !s.command,
        };
        const topic = codec.build(full);
        const parsed = codec.parse(topic);
        const { base, ...fields } = parsed;
        assert.deepEqual(fields, full);
        assert.equal(codec.build(parsed), topic);
        assert.equal(topic, [base, s.kind, ...(s.command ? ['command'] : [])].join('/'));
      }),
      { numRuns: 500 },
    );
  });
});
