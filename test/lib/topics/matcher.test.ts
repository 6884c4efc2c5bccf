// The trie matcher against a brute-force reference (each filter turned into a
// regular expression and tried in turn) on random topics and filters.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { filterMatches, TopicMatcher } from '../../../lib/topics/matcher';
import { TopicError } from '../../../lib/topics/validate';

/** The reference: MQTT matching written the slow, obvious way. */
function referenceMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && /^[+#]/.test(filter)) return false;
  const pattern = filter
    .split('/')
    .map((level) =>
      level === '+' ? '[^/]*' : level === '#' ? '\u0000' : level.replace(/[$.]/g, '\\$&'),
    )
    .join('/')
    // `a/#` also matches `a`; `#` alone matches everything.
    .replace(/\/\u0000$/, '(?:/.*)?')
    .replace(/^\u0000$/, '.*');
  return new RegExp(`^${pattern}$`).test(topic);
}

const LEVELS = ['a', 'b', 'c', '$x'];
const topicArb = fc
  .array(fc.constantFrom(...LEVELS), { minLength: 1, maxLength: 5 })
  .map((l) => l.join('/'));
const filterArb = fc
  .tuple(fc.array(fc.constantFrom(...LEVELS, '+'), { minLength: 0, maxLength: 4 }), fc.boolean())
  .filter(([levels, hash]) => levels.length > 0 || hash)
  .map(([levels, hash]) => [...levels, ...(hash ? ['#'] : [])].join('/'));

describe('topics: trie matcher', () => {
  it('matches exactly the filters the brute-force reference matches', () => {
    fc.assert(
      fc.property(
        fc.array(filterArb, { minLength: 1, maxLength: 60 }),
        fc.array(topicArb, { minLength: 1, maxLength: 30 }),
        (filters, topics) => {
          const matcher = new TopicMatcher<number>();
          filters.forEach((f, i) => matcher.add(f, i));
          assert.equal(matcher.size, filters.length);
          for (const topic of topics) {
            const expected = filters.flatMap((f, i) => (referenceMatches(f, topic) ? [i] : []));
            assert.deepEqual(
              [...matcher.match(topic)].sort((x, y) => x - y),
              expected,
              topic,
            );
            assert.equal(matcher.matches(topic), expected.length > 0);
            for (const f of filters)
              assert.equal(filterMatches(f, topic), referenceMatches(f, topic), `${f} ~ ${topic}`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('forgets removed filters and keeps the others', () => {
    fc.assert(
      fc.property(
        fc.array(filterArb, { minLength: 1, maxLength: 40 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        fc.array(topicArb, { minLength: 1, maxLength: 20 }),
        (filters, drop, topics) => {
          const matcher = new TopicMatcher<number>();
          filters.forEach((f, i) => matcher.add(f, i));
          const kept = filters.map((_f, i) => !drop[i]);
          filters.forEach((f, i) => {
            if (drop[i]) assert.equal(matcher.remove(f, i), true);
          });
          assert.equal(matcher.remove(filters[0], -1), false);
          assert.equal(matcher.size, kept.filter(Boolean).length);
          for (const topic of topics) {
            const expected = filters.flatMap((f, i) =>
              kept[i] && referenceMatches(f, topic) ? [i] : [],
            );
            assert.deepEqual(
              [...matcher.match(topic)].sort((x, y) => x - y),
              expected,
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('follows the MQTT examples', () => {
    const m = new TopicMatcher<string>()
      .add('u4/+/temperature', 'one-level')
      .add('u4/#', 'all-u4')
      .add('+/+/device', 'statuses')
      .add('#', 'everything');
    assert.deepEqual(m.match('u4/campusfab/temperature').sort(), [
      'all-u4',
      'everything',
      'one-level',
    ]);
    assert.deepEqual(m.match('u4/hall/box1/temperature').sort(), ['all-u4', 'everything']);
    assert.deepEqual(m.match('u4').sort(), ['all-u4', 'everything'], 'u4/# matches u4');
    assert.deepEqual(m.match('bu/hall/device').sort(), ['everything', 'statuses']);
    assert.deepEqual(
      m.match('$SYS/broker/load'),
      [],
      'wildcards never match $ topics at the first level',
    );
  });

  it('refuses invalid filters with a clear error', () => {
    assert.throws(
      () => new TopicMatcher().add('#/device', 1),
      (e: unknown) => e instanceof TopicError && /# may only be the last level/.test(e.message),
    );
  });
});
