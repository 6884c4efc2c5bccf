// The bus between instances on a real Mosquitto with dynamic security: a
// service login without the `$sensflow/#` ACLs is refused at start with a
// message naming them; with them, messages go both ways, in order.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { BusRefusedError, ClusterBus } from '../../../lib/cluster/bus';
import { systemClock } from '../../../lib/util/clock';
import { silentLogger } from '../../../lib/util/log';
import { waitFor } from '../../support/net';
import { Mosquitto, startMosquitto } from '../../support/services';

const admin = { adminUser: 'admin', adminPassword: 'dynsec-admin-secret' };

describe('cluster bus on Mosquitto with dynamic security', function () {
  this.timeout(30_000);
  let mosquitto: Mosquitto;
  const buses: ClusterBus[] = [];
  const ctrl = (...args: string[]) =>
    execFileSync(
      'mosquitto_ctrl',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(mosquitto.port),
        '-u',
        admin.adminUser,
        '-P',
        admin.adminPassword,
      ].concat(['dynsec', ...args]),
      { stdio: 'pipe' },
    );
  const bus = (id: string, username: string) => {
    const b = new ClusterBus({
      url: mosquitto.url,
      username,
      password: `${username}-secret`,
      self: { id, token: `${id}-1` },
      clock: systemClock,
      logger: silentLogger,
      startTimeoutMs: 3000,
    });
    buses.push(b);
    return b;
  };

  before(async () => {
    mosquitto = await startMosquitto({ dynsec: admin });
    for (const [login, topics] of [
      ['narrow', ['#']],
      ['service', ['#', '$sensflow/#']],
    ] as const) {
      ctrl('createClient', login, '-p', `${login}-secret`);
      ctrl('createRole', login);
      for (const topic of topics) {
        ctrl('addRoleACL', login, 'publishClientSend', topic, 'allow');
        ctrl('addRoleACL', login, 'subscribePattern', topic, 'allow');
      }
      ctrl('addClientRole', login, login);
    }
  });
  after(async () => {
    for (const b of buses) await b.close();
    await mosquitto?.process.stop();
  });

  it('refuses to start without the $sensflow/# ACLs, saying which', async () => {
    await assert.rejects(
      bus('x', 'narrow').start(),
      (err: unknown) =>
        err instanceof BusRefusedError &&
        /does not let Sensflow's service login use \$sensflow\/bus\/x.*\$sensflow\/#/.test(
          err.message,
        ),
    );
  });

  it('carries messages both ways, in order, with the ACLs', async () => {
    const a = bus('a', 'service');
    const b = bus('b', 'service');
    await Promise.all([a.start(), b.start()]);
    const got: Record<string, unknown[]> = { a: [], b: [] };
    a.handle('test', { message: (_from, body) => got.a.push(body) });
    b.handle('test', { message: (_from, body) => got.b.push(body) });
    for (let i = 0; i < 100; i++) {
      assert.ok(a.send('b', 'b-1', 'test', i));
      assert.ok(b.send('a', 'a-1', 'test', -i - 1));
    }
    await waitFor(async () => assert.equal(got.a.length + got.b.length, 200), 10_000);
    assert.deepEqual(
      got.b,
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.deepEqual(
      got.a,
      Array.from({ length: 100 }, (_, i) => -i - 1),
    );
    await waitFor(async () => assert.equal(a.pending('b') + b.pending('a'), 0), 5_000);
  });
});
