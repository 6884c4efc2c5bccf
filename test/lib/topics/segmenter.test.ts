// The topic-segment node's domain: routing choices and building over defaults.
import assert from 'node:assert/strict';
import { TopicComposer, TopicSegmenter } from '../../../lib/topics/segmenter';
import { TopicCodec } from '../../../lib/topics/topic';

const codec = new TopicCodec('UT3');

describe('topics: segmenter and composer', () => {
  it('routes by kind, with repeated kinds going to each of their outputs', () => {
    const s = new TopicSegmenter(codec, {
      routeBy: 'kind',
      rules: ['shutter', 'device', 'shutter'],
    });
    assert.equal(s.outputs, 4);
    assert.deepEqual(s.route('u4/300/shutter').outputs, [0, 2]);
    assert.deepEqual(s.route('u4/300/device').outputs, [1]);
    assert.deepEqual(s.route('u4/300/co2').outputs, [3]);
  });

  it('refuses unknown routings and bad rules, naming the rule', () => {
    assert.throws(
      () => new TopicSegmenter(codec, { routeBy: 'regex' as never, rules: [] }),
      /unknown routing "regex"/,
    );
    assert.throws(
      () => new TopicSegmenter(codec, { routeBy: 'kind', rules: ['co2', 'Shutter'] }),
      /rule 2: kind "Shutter"/,
    );
    assert.throws(
      () => new TopicSegmenter(codec, { routeBy: 'filter', rules: ['u4//x'] }),
      /rule 1: filter "u4\/\/x": level 2 is empty/,
    );
  });

  it('builds over its defaults: given location fields replace the default location', () => {
    const c = new TopicComposer(codec, { base: 'u4/hall/box1', kind: 'lighting', type: 'data' });
    assert.equal(c.build(undefined), 'u4/hall/box1/lighting');
    assert.equal(c.build({ room: '301', building: 'u4' }), 'u4/301/lighting');
    assert.equal(c.build({ base: 'abroad/albi/outside' }), 'abroad/albi/outside/lighting');
    assert.equal(c.build({ command: true }), 'u4/hall/box1/lighting/command');
    assert.equal(c.build({ status: true }), 'u4/hall/box1/device');
    assert.equal(c.build(codec.parse('bu/hall/shutter/command')), 'bu/hall/shutter/command');
    assert.throws(() => c.build('u4/300'), /msg.segments must be an object/);
    assert.throws(
      () => new TopicComposer(codec, { type: 'event' as never }),
      /unknown topic type "event"/,
    );
    assert.throws(() => new TopicComposer(codec, { base: 'u4' }), /names a building and a room/);
  });
});
