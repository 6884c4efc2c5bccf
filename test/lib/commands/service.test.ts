// The command service on a real ledger (SQLite and MariaDB), a fake transport
// and fake time: confirmation, retries and backoff, the time to live, the
// queue while the transport is down, all-units aggregation, restarts,
// idempotency, refusals, and exactly one result per command.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CommandLedger } from '../../../lib/commands/ledger';
import { CommandOptions } from '../../../lib/commands/options';
import { OrderCatalog } from '../../../lib/commands/orders';
import { CommandService } from '../../../lib/commands/service';
import { CommandRequest, CommandResult, Incoming, MqttTarget } from '../../../lib/commands/types';
import { UnitResolver } from '../../../lib/commands/units';
import { registry as metrics } from '../../../lib/ops/metrics';
import { openStore, Store, StoreSpec } from '../../../lib/store/store';
import { FakeClock } from '../../support/fake-clock';
import { MemoryDirectory } from '../../support/memory-directory';
import { waitFor } from '../../support/net';
import { mariadb } from '../../support/services';
import { FakeTransport } from './fake-transport';

const SHUTTERS: MqttTarget = { transport: 'mqtt', base: 'u4/300', kind: 'shutter' };
const DEVICE: MqttTarget = { transport: 'mqtt', base: 'u4/303', kind: 'device' };

const catalog: OrderCatalog = {
  async ordersOf(type) {
    const types: Record<string, Record<string, string[]>> = {
      'shutter-box': { shutter: ['up', 'down', 'stop'] },
      sensor: { temperature: [] },
      lamp: { lighting: ['on', 'off', '0-100'] },
    };
    return types[type] ?? null;
  },
};

function directory(now: () => number) {
  return new MemoryDirectory(
    [
      { id: 's1', customerId: 'c1', type: 'shutter-box', location: 'u4/300' },
      { id: 's2', customerId: 'c1', type: 'shutter-box', location: 'u4/300' },
      { id: 's3', customerId: 'c1', type: 'shutter-box', location: 'u4/300' },
      { id: 's5', customerId: 'c1', type: 'shutter-box', location: 'u4/300', enabled: false },
      { id: 't1', customerId: 'c2', type: 'sensor', location: 'u4/300' },
      { id: 's4', customerId: 'c1', type: 'shutter-box', location: 'u4/301' },
      { id: 'x1', customerId: 'c2', type: 'shutter-box', location: 'u4/302' },
      { id: 'l1', customerId: 'c1', type: 'lamp', location: 'u4/304' },
      { id: 'd1', customerId: 'c1', type: 'esp32', location: 'u4/303' },
    ],
    now,
  );
}

const OPTIONS: Partial<CommandOptions> = {
  ackTimeoutMs: 10_000,
  maxAttempts: 3,
  ttlMs: 60_000,
  backoff: { initialMs: 1_000, maxMs: 4_000 },
  queueLimit: 3,
};

function ledgerContract(name: string, makeSpec: () => Promise<StoreSpec>) {
  describe(`command service on ${name}`, function () {
    this.timeout(30_000);
    let store: Store;
    let clock: FakeClock;
    let transport: FakeTransport;
    let services: CommandService[];
    let resets: string[];

    before(async () => {
      store = await openStore(await makeSpec());
    });
    after(async () => {
      await store?.close();
    });
    beforeEach(async () => {
      await store.db.deleteFrom('sensflow_commands').execute();
      clock = new FakeClock();
      transport = new FakeTransport();
      services = [];
      resets = [];
    });
    afterEach(async () => {
      await Promise.all(services.map((s) => s.close()));
    });

    /** A started service and what it reports. */
    async function service(
      options: Partial<CommandOptions> = {},
      owner = 'node-1',
      customerId?: string,
    ) {
      const results: CommandResult[] = [];
      const messages: Incoming[] = [];
      const svc = new CommandService<string>({
        owner,
        ledger: new CommandLedger(store.db),
        transport,
        units: new UnitResolver(
          directory(() => clock.now()),
          catalog,
          customerId,
        ),
        credentials: { resetCredentials: async (id) => void resets.push(id) },
        clock,
        options: { ...OPTIONS, ...options },
        events: { result: (r) => results.push(r), message: (m) => messages.push(m) },
      });
      services.push(svc);
      await svc.start();
      return { svc, results, messages };
    }

    const up = (extra: Partial<CommandRequest> = {}): CommandRequest => ({
      target: SHUTTERS,
      order: 'up',
      dest: 's1',
      ...extra,
    });
    /** Moves fake time in steps, letting every service finish its steps
     *  (ledger writes take real time) before time moves on. */
    async function tick(ms: number, step = 500) {
      for (let done = 0; done < ms; done += step) {
        await clock.advance(Math.min(step, ms - done));
        await Promise.all(services.map((s) => s.settled()));
      }
    }
    const until = (check: () => boolean) =>
      waitFor(
        async () => {
          if (!check()) throw new Error('not yet');
        },
        5_000,
        5,
      );

    it('sends once and confirms on the unit echo, with its latency and status', async () => {
      const { svc, results, messages } = await service();
      const { result } = await svc.submit(up());
      assert.equal(result.state, 'sent');
      assert.deepEqual(
        transport.sent.map((s) => [s.order, s.dest]),
        [['up', 's1']],
      );
      await tick(1_500);
      transport.echo(SHUTTERS, 's2', 'closed'); // another unit: heard, confirms nothing
      transport.echo(SHUTTERS, 's1', 'open');
      await until(() => results.length === 1);
      const r = results[0];
      assert.equal(r.state, 'confirmed');
      assert.equal(r.attempts, 1);
      assert.equal(r.latencyMs, 1_500);
      assert.equal(r.status, 'open');
      assert.deepEqual(r.units, { s1: { state: 'confirmed', latencyMs: 1_500, status: 'open' } });
      assert.equal(messages.length, 2);
      assert.equal(messages[1].commandId, r.commandId);
      assert.equal(messages[0].commandId, undefined);
      const row = await new CommandLedger(store.db).get(r.commandId);
      assert.equal(row?.state, 'confirmed');
      assert.equal(transport.listening(SHUTTERS), 0, 'stops listening when nothing waits');
      await tick(60_000);
      assert.equal(transport.sent.length, 1, 'nothing sent after confirmation');
      assert.equal(results.length, 1);
    });

    it('retries with backoff, then confirms', async () => {
      const { svc, results } = await service();
      await svc.submit(up());
      await tick(10_000); // no answer within the ack window
      await tick(999);
      assert.equal(transport.sent.length, 1, 'waits out the backoff');
      await tick(1);
      await until(() => transport.sent.length === 2);
      transport.echo(SHUTTERS, 's1');
      await until(() => results.length === 1);
      assert.equal(results[0].state, 'confirmed');
      assert.equal(results[0].attempts, 2);
      assert.equal(results[0].latencyMs, 11_000);
    });

    it('times out after the last attempt, once', async () => {
      const { svc, results } = await service();
      await svc.submit(up());
      for (const [advance, sends] of [
        [11_000, 2],
        [12_000, 3],
      ] as const) {
        await tick(advance);
        await until(() => transport.sent.length === sends);
      }
      await tick(10_000);
      await until(() => results.length === 1);
      assert.equal(results[0].state, 'timeout');
      assert.equal(results[0].attempts, 3);
      assert.match(results[0].detail ?? '', /no confirmation after 3 sends/);
      assert.deepEqual(results[0].units.s1, { state: 'timeout', latencyMs: null, status: null });
      transport.echo(SHUTTERS, 's1'); // too late
      await tick(60_000);
      assert.equal(results.length, 1);
      assert.equal(transport.sent.length, 3);
    });

    it('aggregates dest "all" over the enabled units of the kind at the base', async () => {
      const { svc, results } = await service();
      const { result } = await svc.submit(up({ dest: 'all' }));
      assert.deepEqual(
        Object.keys(result.units),
        ['s1', 's2', 's3'],
        'not s5 (disabled) nor t1 (a sensor)',
      );
      assert.deepEqual(
        transport.sent.map((s) => s.dest),
        ['all'],
      );
      await tick(300);
      transport.echo(SHUTTERS, 's2', 'open');
      await tick(200);
      transport.echo(SHUTTERS, 's1', 'open');
      await tick(10_000);
      await tick(1_000);
      await until(() => transport.sent.length === 2);
      assert.equal(transport.sent[1].dest, 's3', 'the retry goes only to the silent unit');
      await tick(700);
      transport.echo(SHUTTERS, 's3', 'half');
      await until(() => results.length === 1);
      const r = results[0];
      assert.equal(r.state, 'confirmed');
      assert.deepEqual(r.status, { s1: 'open', s2: 'open', s3: 'half' });
      assert.deepEqual(
        Object.fromEntries(Object.entries(r.units).map(([u, o]) => [u, [o.state, o.latencyMs]])),
        { s1: ['confirmed', 500], s2: ['confirmed', 300], s3: ['confirmed', 12_200] },
      );
      assert.equal(r.latencyMs, 12_200);
    });

    it('reports a partial answer as timeout with the per-unit table', async () => {
      const { svc, results } = await service({ maxAttempts: 1 });
      await svc.submit(up({ dest: 'all' }));
      transport.echo(SHUTTERS, 's1');
      await tick(10_000);
      await until(() => results.length === 1);
      assert.equal(results[0].state, 'timeout');
      assert.deepEqual(
        Object.fromEntries(Object.entries(results[0].units).map(([u, o]) => [u, o.state])),
        { s1: 'confirmed', s2: 'timeout', s3: 'timeout' },
      );
    });

    it('keeps orders in the ledger while the transport is down, bounded, and sends them on reconnection', async () => {
      const { svc, results } = await service();
      transport.setReady(false);
      for (const dest of ['s1', 's2', 's3']) {
        const { result } = await svc.submit(up({ dest }));
        assert.equal(result.state, 'queued');
      }
      await assert.rejects(
        svc.submit(up({ dest: 's1', order: 'down' })),
        /3 commands are already waiting to be sent \(limit 3\)/,
      );
      const rows = await store.db.selectFrom('sensflow_commands').select('state').execute();
      assert.deepEqual(
        rows.map((r) => r.state),
        ['queued', 'queued', 'queued'],
        'the refused one is not recorded',
      );
      await tick(5_000);
      assert.equal(transport.sent.length, 0);
      transport.setReady(true);
      await until(() => transport.sent.length === 3);
      for (const unit of ['s1', 's2', 's3']) transport.echo(SHUTTERS, unit);
      await until(() => results.length === 3);
      assert.deepEqual(
        results.map((r) => r.state),
        ['confirmed', 'confirmed', 'confirmed'],
      );
    });

    it('never sends an order after its time to live', async () => {
      const { svc, results } = await service();
      transport.setReady(false);
      await svc.submit(up());
      await tick(60_000);
      await until(() => results.length === 1);
      assert.equal(results[0].state, 'expired');
      assert.equal(results[0].attempts, 0);
      transport.setReady(true);
      await tick(1_000);
      assert.equal(transport.sent.length, 0);
    });

    it('gives up at the time to live between retries, as a timeout', async () => {
      const { svc, results } = await service({ ttlMs: 15_000, maxAttempts: 5 });
      await svc.submit(up());
      await tick(11_000);
      await until(() => transport.sent.length === 2);
      await tick(4_000);
      await until(() => results.length === 1);
      assert.equal(results[0].state, 'timeout');
      assert.match(results[0].detail ?? '', /time to live/);
      await tick(30_000);
      assert.equal(transport.sent.length, 2);
    });

    it('resumes a sent command after a restart, and answers it once', async () => {
      const first = await service();
      const { result } = await first.svc.submit(up());
      await first.svc.close();
      const second = await service();
      assert.equal(transport.listening(SHUTTERS), 1, 'listens again for the pending command');
      transport.echo(SHUTTERS, 's1');
      await until(() => second.results.length === 1);
      assert.equal(second.results[0].commandId, result.commandId);
      assert.equal(second.results[0].state, 'confirmed');
      assert.equal(first.results.length, 0);
      assert.equal(transport.sent.length, 1, 'not sent again: the echo came within its window');
    });

    it('resends a resumed command whose window passed, and ends expired ones without sending', async () => {
      const first = await service();
      await first.svc.submit(up());
      transport.setReady(false);
      await first.svc.submit(up({ dest: 's2' }));
      await first.svc.close();
      transport.setReady(true);
      await tick(30_000);
      const second = await service();
      await until(() => transport.sent.length === 2);
      assert.deepEqual(
        transport.sent.map((s) => s.dest),
        ['s1', 's2'],
        's1 again (window passed), s2 for the first time',
      );
      await tick(40_000); // past both time to lives
      await until(() => second.results.length === 2);
      await second.svc.close();
      transport.setReady(false);
      const third = await service();
      await tick(1_000);
      assert.equal(third.results.length, 0, 'nothing left to resume');
      const sentBefore = transport.sent.length;
      const expiredFirst = await service({}, 'node-2');
      transport.setReady(false);
      await expiredFirst.svc.submit(up({ dest: 's3' }));
      await expiredFirst.svc.close();
      await tick(61_000);
      transport.setReady(true);
      const later = await service({}, 'node-2');
      await until(() => later.results.length === 1);
      assert.equal(later.results[0].state, 'expired');
      assert.equal(transport.sent.length, sentBefore, 'an expired order is never sent late');
    });

    it('sends an order with an idempotency key at most once, across restarts', async () => {
      const first = await service();
      const a = await first.svc.submit(up({ idempotencyKey: 'order-42' }));
      const b = await first.svc.submit(up({ idempotencyKey: 'order-42', order: 'down' }));
      assert.equal(a.duplicate, false);
      assert.equal(b.duplicate, true);
      assert.equal(b.result.commandId, a.result.commandId);
      assert.equal(b.result.duplicate, true);
      transport.echo(SHUTTERS, 's1');
      await until(() => first.results.length === 1);
      await first.svc.close();
      const second = await service({}, 'node-9');
      const c = await second.svc.submit(up({ idempotencyKey: 'order-42' }));
      assert.equal(c.duplicate, true);
      assert.equal(c.result.state, 'confirmed');
      assert.equal(transport.sent.length, 1);
    });

    it('reports one result when two services race for one command', async () => {
      const first = await service();
      await first.svc.submit(up());
      const second = await service(); // the same owner started twice
      transport.echo(SHUTTERS, 's1');
      await until(() => first.results.length + second.results.length >= 1);
      await tick(100_000);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(first.results.length + second.results.length, 1);
    });

    it('takes over a lost instance’s open commands once, and the loser can no longer move them', async () => {
      const lost = await service({}, 'node-1@a');
      const { result } = await lost.svc.submit(up());
      const other = await service({}, 'node-1@c');
      const taker = await service({}, 'node-1@b');
      const [n, m] = await Promise.all([taker.svc.adopt('node-1@a'), other.svc.adopt('node-1@a')]);
      assert.equal(n + m, 1, 'one instance gets it');
      const winner = n === 1 ? taker : other;
      const row = await store.db
        .selectFrom('sensflow_commands')
        .select('owner')
        .where('id', '=', result.commandId)
        .executeTakeFirstOrThrow();
      assert.equal(row.owner, n === 1 ? 'node-1@b' : 'node-1@c');
      // Every service hears the echo; only the new owner may record the end.
      transport.echo(SHUTTERS, 's1');
      await until(() => winner.results.length === 1);
      await tick(100_000);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(winner.results[0].state, 'confirmed');
      assert.equal(lost.results.length + taker.results.length + other.results.length, 1);
      assert.equal(await winner.svc.adopt('node-1@a'), 0, 'nothing left to take');
    });

    it('ends as rejected when the transport refuses the order', async () => {
      const { svc, results } = await service();
      transport.refuseNext('not authorized');
      await svc.submit(up());
      await until(() => results.length === 1);
      assert.equal(results[0].state, 'rejected');
      assert.match(results[0].detail ?? '', /not authorized/);
    });

    it('resets the credentials of a device it reinstalled, after the order went out', async () => {
      const { svc, results } = await service();
      await svc.submit({ target: DEVICE, order: 'reinstall', dest: 'd1' });
      assert.deepEqual(resets, [], 'not before the device had the order');
      transport.echo(DEVICE, 'd1', 'reinstalling');
      await until(() => results.length === 1);
      assert.equal(results[0].state, 'confirmed');
      assert.equal(results[0].credentialsReset, true);
      assert.deepEqual(resets, ['d1']);
      await svc.submit({ target: DEVICE, order: 'reboot', dest: 'd1' });
      transport.echo(DEVICE, 'd1');
      await until(() => results.length === 2);
      assert.deepEqual(resets, ['d1'], 'a reboot resets nothing');
    });

    const REFUSED: Array<[string, CommandRequest, RegExp, string?]> = [
      [
        'an order unknown for the kind',
        up({ order: 'open' }),
        /order "open" is unknown for shutter on s1 \(type shutter-box\): expected one of up, down, stop/,
      ],
      ['a dest naming no unit', up({ dest: 'nobody' }), /no device "nobody" in the registry/],
      ['a unit at another base', up({ dest: 's4' }), /unit "s4" is at u4\/301, not at u4\/300/],
      ['a disabled unit', up({ dest: 's5' }), /device "s5" is disabled/],
      [
        'a device without that module',
        up({ dest: 't1' }),
        /device "t1" \(type sensor\) has no shutter module/,
      ],
      [
        'a base without units of the kind',
        up({ target: { ...SHUTTERS, base: 'u4/999' }, dest: 'all' }),
        /no enabled unit of kind shutter at u4\/999/,
      ],
      [
        'a target in another customer',
        up({ target: { ...SHUTTERS, base: 'u4/302' }, dest: 'x1' }),
        /x1 belongs to another customer than c1/,
        'c1',
      ],
      [
        'a lighting level out of range',
        { target: { transport: 'mqtt', base: 'u4/304', kind: 'lighting' }, order: 150, dest: 'l1' },
        /order "150" is unknown for lighting/,
      ],
      ['a bad dest', up({ dest: 'a/b' }), /dest "a\/b" must be "all" or a unit id/],
      ['an empty order', up({ order: '' }), /order must be a name or a number/],
      [
        'a target no transport here reaches',
        { target: { transport: 'eot', deviceId: 's1', actuator: 'led' }, order: 'on', dest: 's1' },
        /no transport here reaches eot targets/,
      ],
    ];
    for (const [what, request, message, customer] of REFUSED) {
      it(`refuses ${what}, recording and sending nothing`, async () => {
        const { svc } = await service({}, 'node-1', customer);
        await assert.rejects(svc.submit(request), message);
        assert.equal(transport.sent.length, 0);
        assert.equal(
          (await store.db.selectFrom('sensflow_commands').selectAll().execute()).length,
          0,
        );
      });
    }

    it('accepts a lighting level in range and counts final states in the metrics', async () => {
      const { svc, results } = await service();
      const before = await metricValue('sensflow_commands_total', {
        transport: 'mqtt',
        state: 'confirmed',
      });
      const lamp: MqttTarget = { transport: 'mqtt', base: 'u4/304', kind: 'lighting' };
      await svc.submit({ target: lamp, order: 40, dest: 'l1' });
      await tick(250);
      transport.echo(lamp, 'l1', 40);
      await until(() => results.length === 1);
      assert.equal(results[0].state, 'confirmed');
      assert.equal(
        await metricValue('sensflow_commands_total', { transport: 'mqtt', state: 'confirmed' }),
        before + 1,
      );
      const text = await metrics.metrics();
      assert.match(
        text,
        /sensflow_command_confirmation_seconds_bucket\{le="0\.25",transport="mqtt"\} [1-9]/,
      );
    });
  });
}

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const metric = await metrics.getSingleMetric(name)?.get();
  const found = metric?.values.find((v) =>
    Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  );
  return found?.value ?? 0;
}

ledgerContract('SQLite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-commands-'));
  return { kind: 'sqlite', file: path.join(dir, 'sensflow.db') };
});

ledgerContract('MariaDB', async () => {
  const server = await mariadb();
  return { kind: 'mysql', url: await server.createDatabase('commands') };
});
