// Names as line protocol text, remembered: escaped and sorted as InfluxDB
// wants them, refused every time they are bad (never remembered), and still
// right once the memory has started afresh.
import assert from 'node:assert/strict';
import { NameText, sortKeys } from '../../../lib/history/names';
import { AppendTags } from '../../../lib/history/spool-tags';

describe('line protocol names', () => {
  it('encodes tags sorted by key, escaping spaces, commas and equals signs', () => {
    const names = new NameText();
    assert.equal(
      names.tags({ room: 'hall 1, east=2', building: 'u4', 'the kind': 't' }),
      ',building=u4,room=hall\\ 1\\,\\ east\\=2,the\\ kind=t',
    );
    assert.equal(names.measurement('air temp,in'), 'air\\ temp\\,in');
    assert.equal(names.tag('room', '300'), ',room=300');
    assert.equal(names.tag('room', '300'), ',room=300', 'the same text the second time');
  });

  it('refuses bad names each time they come, with the reason', () => {
    const names = new NameText();
    for (let i = 0; i < 2; i++) {
      assert.throws(() => names.tag('room', 'a\nb'), /tag room "a\\nb" contains a line break/);
      assert.throws(() => names.tag('time', 'x'), /tag key "time" is reserved/);
      assert.throws(() => names.measurement('#comment'), /starts with "#"/);
      assert.throws(() => names.measurement(''), /the measurement is empty/);
    }
  });

  it('stays right beyond the number of names it remembers', () => {
    const names = new NameText();
    for (let i = 0; i < 25_000; i++)
      assert.equal(names.tag('device', `d ${i}`), `,device=d\\ ${i}`);
    assert.equal(names.tag('device', 'd 1'), ',device=d\\ 1');
  });

  it('sorts keys as Array.prototype.sort does', () => {
    const keys = ['site', 'Room', 'building', 'device', 'kind', 'a', 'B', 'location'];
    assert.deepEqual(sortKeys([...keys]), [...keys].sort());
    assert.deepEqual(sortKeys([]), []);
  });
});

describe('append tags of the spool', () => {
  it('finds the tag of a point by its index until it is released', () => {
    const tags = new AppendTags<string>();
    tags.add(0, 3, 'a');
    tags.add(5, 6, 'c'); // points 3 and 4 came without a tag
    tags.add(6, 10, 'd');
    assert.deepEqual(
      Array.from({ length: 11 }, (_, i) => tags.at(i)),
      ['a', 'a', 'a', undefined, undefined, 'c', 'd', 'd', 'd', 'd', undefined],
    );
    tags.release(6);
    assert.deepEqual(
      [tags.at(2), tags.at(5), tags.at(6), tags.at(9)],
      [undefined, undefined, 'd', 'd'],
    );
    tags.release(8);
    assert.equal(tags.at(9), 'd', 'kept while some of its points are unsent');
    tags.release(10);
    assert.equal(tags.at(9), undefined);
  });

  it('forgets the oldest beyond its limit, and compacts as it goes', () => {
    const tags = new AppendTags<number>(100);
    for (let i = 0; i < 5000; i++) tags.add(i, i + 1, i);
    assert.equal(tags.at(4899), undefined, 'forgotten');
    assert.equal(tags.at(4900), 4900);
    assert.equal(tags.at(4999), 4999);
    tags.release(4950);
    assert.equal(tags.at(4949), undefined);
    assert.equal(tags.at(4950), 4950);
  });
});
