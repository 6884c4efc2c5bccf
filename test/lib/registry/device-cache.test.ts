// The registry's device cache: known devices cost no query, every change the
// feed announces is seen by the next lookup, old entries are read again, and
// an answer read across a change is not kept.
import assert from 'node:assert/strict';
import { DeviceCache } from '../../../lib/registry/device-cache';
import type { DeviceInfo } from '../../../lib/registry/directory';
import { FakeClock } from '../../support/fake-clock';
import { MemoryDirectory } from '../../support/memory-directory';

class CountingDirectory extends MemoryDirectory {
  queries = 0;
  /** When set, devicesAt waits for it before answering. */
  hold?: Promise<void>;

  override async findDevice(id: string): Promise<DeviceInfo | null> {
    this.queries++;
    return super.findDevice(id);
  }

  override async devicesAt(location: string): Promise<DeviceInfo[]> {
    this.queries++;
    const answer = await super.devicesAt(location);
    await this.hold;
    return answer;
  }
}

describe('DeviceCache', () => {
  let directory: CountingDirectory;
  let clock: FakeClock;
  let cache: DeviceCache;

  beforeEach(() => {
    directory = new CountingDirectory([{ id: 'a', customerId: 'acme', location: 'u4/300' }]);
    clock = new FakeClock();
    cache = new DeviceCache(directory, { clock, maxAgeMs: 30_000 });
  });
  afterEach(() => cache.close());

  it('asks the registry once for a known device or location', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await cache.findDevice('a'))?.customerId, 'acme');
      assert.deepEqual(
        (await cache.devicesAt('u4/300')).map((d) => d.id),
        ['a'],
      );
    }
    assert.equal(await cache.findDevice('nobody'), null);
    assert.equal(await cache.findDevice('nobody'), null);
    assert.equal(directory.queries, 3);
    assert.equal(cache.knownDevice('a')?.id, 'a');
    assert.equal(cache.knownAt('u9/1'), undefined);
  });

  it('sees a device added, moved, changed or removed at the next lookup', async () => {
    await cache.devicesAt('u4/300');
    await cache.findDevice('a');
    directory.put({ id: 'b', customerId: 'acme', location: 'u4/300' });
    assert.deepEqual(
      (await cache.devicesAt('u4/300')).map((d) => d.id),
      ['a', 'b'],
    );
    directory.put({ id: 'a', customerId: 'other', location: 'u5/1' });
    assert.equal((await cache.findDevice('a'))?.customerId, 'other');
    assert.deepEqual(
      (await cache.devicesAt('u4/300')).map((d) => d.id),
      ['b'],
    );
    directory.remove('b');
    assert.deepEqual(await cache.devicesAt('u4/300'), []);
    assert.equal(await cache.findDevice('b'), null);
  });

  it('reads an entry again once older than its maximum age', async () => {
    await cache.findDevice('a');
    await directory.markSeen('a', clock.now());
    await clock.advance(30_000);
    assert.equal((await cache.findDevice('a'))?.lastSeen, null); // still cached
    await clock.advance(1);
    assert.equal((await cache.findDevice('a'))?.lastSeen, clock.now() - 30_001);
    assert.equal(directory.queries, 2);
  });

  it('does not keep an answer read while a change arrived', async () => {
    let release!: () => void;
    directory.hold = new Promise((resolve) => (release = resolve));
    const reading = cache.devicesAt('u4/300');
    directory.put({ id: 'b', customerId: 'acme', location: 'u4/300' });
    release();
    await reading; // may or may not hold b: it was read across the change
    directory.hold = undefined;
    assert.deepEqual(
      (await cache.devicesAt('u4/300')).map((d) => d.id),
      ['a', 'b'],
    );
  });
});
