// MQTT rules on publish topics and subscription filters, with the spec's
// stricter rule on empty levels.
import assert from 'node:assert/strict';
import {
  filterProblem,
  topicProblem,
  validateFilter,
  validateTopic,
  TopicError,
} from '../../../lib/topics/validate';

describe('topics: validation', () => {
  it('accepts valid filters', () => {
    for (const f of [
      'u4/+/temperature',
      'u4/#',
      '#',
      '+',
      '+/+/device',
      'abroad/+/outside/#',
      'u4/300/temperature',
      '$SYS/#',
    ]) {
      assert.equal(filterProblem(f), null, f);
      assert.equal(validateFilter(f), f);
    }
  });

  const BAD_FILTERS: Array<[unknown, RegExp]> = [
    ['#/device', /level 1: # may only be the last level/],
    ['u4/#/temperature', /level 2: # may only be the last level/],
    ['u4/te+/x', /level 2 \("te\+"\) mixes \+ with other characters/],
    ['u4/300/temp#', /level 3 \("temp#"\) mixes # with other characters/],
    ['u4//x', /level 2 is empty/],
    ['u4/', /level 2 is empty/],
    ['', /filter is empty/],
    [null, /must be a string, got object/],
    ['a'.repeat(70_000), /longer than 65535 bytes/],
  ];
  for (const [filter, message] of BAD_FILTERS) {
    it(`rejects filter ${JSON.stringify(filter).slice(0, 30)}`, () => {
      assert.match(filterProblem(filter) ?? '', message);
      assert.throws(
        () => validateFilter(filter),
        (e: unknown) => e instanceof TopicError && message.test(e.message),
      );
    });
  }

  it('refuses wildcards and empty levels in publish topics', () => {
    assert.equal(topicProblem('u4/300/temperature'), null);
    assert.equal(validateTopic('u4/300/temperature'), 'u4/300/temperature');
    assert.match(topicProblem('u4/+/temperature') ?? '', /level 2 \("\+"\) has a wildcard/);
    assert.match(topicProblem('u4/#') ?? '', /wildcard/);
    assert.match(topicProblem('u4//x') ?? '', /level 2 is empty/);
    assert.throws(() => validateTopic('a/\u0000'), /NUL/);
  });
});
