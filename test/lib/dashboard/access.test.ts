// Per-customer dashboards: who a connection is, what a message names, and
// whether its user may see or act on it; the browser's word counts for nothing.
import assert from 'node:assert/strict';
import { AccessLookups, refusal, stampUser, subjectsOf } from '../../../lib/dashboard/access';
import {
  canSee,
  DashboardIdentity,
  DashboardSessions,
  OPEN_DASHBOARD,
} from '../../../lib/dashboard/sessions';

const alice: DashboardIdentity = { username: 'alice', customerId: 'acme', role: 'operator' };
const victor: DashboardIdentity = { username: 'victor', customerId: 'acme', role: 'viewer' };
const root: DashboardIdentity = { username: 'root', customerId: null, role: 'operator' };

const lookups: AccessLookups = {
  customerOfDevice: async (id) => ({ 'a-1': 'acme', 'a-2': 'acme', 'g-1': 'globex' })[id] ?? null,
  customersAt: async (base) =>
    ({ 'u4/300': ['acme', 'acme'], 'u4/301': ['acme', 'globex'] })[base] ?? [],
  customerOfAlarm: async (id) =>
    ({ 'al-a': 'acme', 'al-g': 'globex', 'al-none': null })[id] as string | null | undefined,
};

describe('dashboard sessions', () => {
  it('binds connections to users and refuses what nobody bound, once enforced', () => {
    const sessions = new DashboardSessions();
    assert.deepEqual(sessions.resolve(undefined), { identity: OPEN_DASHBOARD }, 'stock Node-RED');
    sessions.enforce();
    sessions.bind('s1', alice);
    assert.deepEqual(sessions.resolve({ socketId: 's1', user: root }), { identity: alice });
    assert.deepEqual(sessions.resolve({ socketId: 's2' }), {
      refused: 'unknown dashboard connection',
    });
    assert.deepEqual(sessions.resolve({}), { refused: 'not sent from a dashboard connection' });
    assert.deepEqual(sessions.resolve('s1'), { refused: 'not sent from a dashboard connection' });
    sessions.release('s1');
    assert.equal(sessions.userOf('s1'), undefined);
    assert.equal(sessions.size, 0);
  });

  it('shows a marked message to its customer and to users of every customer only', () => {
    assert.ok(canSee(alice, 'acme'));
    assert.ok(!canSee(alice, 'globex'));
    assert.ok(!canSee(alice, '-'), "'-': users of every customer only");
    assert.ok(canSee(root, 'globex'));
    assert.ok(canSee(root, '-'));
    assert.ok(canSee(alice, undefined), 'unmarked: everyone');
    assert.ok(!canSee(undefined, 'acme'), 'nobody sees marked messages');
    assert.ok(canSee(undefined, null));
  });
});

describe('dashboard access', () => {
  it('finds the devices, locations and alarms a message names, also in JSON text', () => {
    assert.deepEqual(
      subjectsOf({
        deviceId: 'a-1',
        target: { deviceId: 'g-1', base: 'u4/300' },
        payload: { deviceId: 'a-2', destination: 'x', dest: 'y', alarmId: 'al-a' },
      }),
      { devices: ['a-1', 'g-1', 'a-2', 'x', 'y'], locations: ['u4/300'], alarms: ['al-a'] },
    );
    assert.deepEqual(subjectsOf({ payload: '{"order":"up","dest":"g-1"}' }).devices, ['g-1']);
    assert.deepEqual(subjectsOf({ payload: { action: 'acknowledge', id: 'al-g' } }).alarms, [
      'al-g',
    ]);
    assert.deepEqual(
      subjectsOf({ payload: { destination: '*', dest: 'all' } }),
      { devices: [], locations: [], alarms: [] },
      'wildcards name no device',
    );
    assert.deepEqual(subjectsOf({ payload: '{not json' }).devices, []);
  });

  it("lets a user act on their customer's things only", async () => {
    const act = { operate: true };
    assert.equal(await refusal(alice, subjectsOf({ deviceId: 'a-1' }), lookups, act), null);
    assert.equal(
      await refusal(alice, subjectsOf({ payload: { destination: 'g-1' } }), lookups, act),
      'device g-1 belongs to another customer',
    );
    assert.equal(
      await refusal(alice, subjectsOf({ deviceId: 'zz' }), lookups, act),
      'no device zz',
    );
    assert.equal(
      await refusal(alice, subjectsOf({ target: { base: 'u4/300' } }), lookups, act),
      null,
    );
    assert.equal(
      await refusal(alice, subjectsOf({ target: { base: 'u4/301' } }), lookups, act),
      'u4/301 has devices of another customer',
    );
    assert.equal(
      await refusal(alice, subjectsOf({ target: { base: 'none' } }), lookups, act),
      'no device at none',
    );
    assert.equal(
      await refusal(alice, subjectsOf({ payload: { alarmId: 'al-g' } }), lookups, act),
      'alarm al-g belongs to another customer',
    );
    assert.equal(
      await refusal(alice, subjectsOf({ payload: { alarmId: 'al-none' } }), lookups, act),
      'alarm al-none belongs to another customer',
      'an alarm of no single customer is for users of every customer',
    );
    assert.equal(
      await refusal(alice, subjectsOf({ payload: { alarmId: 'gone' } }), lookups, act),
      'no alarm gone',
    );
    assert.equal(await refusal(root, subjectsOf({ deviceId: 'g-1' }), lookups, act), null);
  });

  it('refuses actions to viewers, not watching', async () => {
    const subjects = subjectsOf({ deviceId: 'a-1' });
    assert.equal(
      await refusal(victor, subjects, lookups, { operate: true }),
      'victor may only watch (viewer)',
    );
    assert.equal(await refusal(victor, subjects, lookups, { operate: false }), null);
  });

  it("writes the user's name and customer over what the browser sent", () => {
    const msg: Record<string, unknown> = {
      customerId: 'globex',
      payload: { user: 'someone else', customer: 'globex', customerId: 'globex' },
    };
    stampUser(msg, alice);
    assert.deepEqual(msg, {
      customerId: 'acme',
      user: 'alice',
      payload: { user: 'alice', customer: 'acme', customerId: 'acme' },
    });
    const all: Record<string, unknown> = { customerId: 'globex', payload: 'up' };
    stampUser(all, root);
    assert.deepEqual(all, { user: 'root', payload: 'up' }, 'a user of every customer lists all');
  });
});
