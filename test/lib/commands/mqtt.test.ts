// Commands over real brokers (Mosquitto, and the embedded aedes broker) with
// simulated shutters: confirmation, all-units aggregation, retry and timeout,
// a broker restart in the middle of a command, a process restart with a
// pending command, and idempotency. Real time, short windows.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { MqttClient } from 'mqtt';
import { CommandLedger } from '../../../lib/commands/ledger';
import { MqttCommandTransport, mqttJsLink } from '../../../lib/commands/mqtt-transport';
import { CommandService } from '../../../lib/commands/service';
import { CommandResult, Incoming, MqttTarget } from '../../../lib/commands/types';
import { UnitResolver } from '../../../lib/commands/units';
import { openStore, Store } from '../../../lib/store/store';
import { MemoryDirectory } from '../../support/memory-directory';
import { TEST_BROKERS, TestBroker } from '../../support/brokers';
import { delay, waitFor } from '../../support/net';
import { SimulatedShutter } from '../../support/shutter';

const SHUTTERS: MqttTarget = { transport: 'mqtt', base: 'u4/300', kind: 'shutter' };

for (const [name, makeBroker] of TEST_BROKERS) {
  describe(`commands over MQTT with ${name}`, function () {
    this.timeout(30_000);
    let broker: TestBroker;
    let store: Store;
    const closers: Array<() => Promise<void>> = [];

    before(async () => {
      broker = await makeBroker();
    });
    after(async () => {
      await broker?.close();
    });
    beforeEach(async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-cmd-'));
      store = await openStore({ kind: 'sqlite', file: path.join(dir, 'sensflow.db') });
    });
    afterEach(async () => {
      for (const close of closers.splice(0).reverse()) await close();
      await store.close();
    });

    async function client(): Promise<MqttClient> {
      const c = await mqtt.connectAsync(broker.url, {
        ...broker.login,
        reconnectPeriod: 100,
        connectTimeout: 2_000,
      });
      closers.push(() => c.endAsync(true));
      return c;
    }

    async function shutter(
      id: string,
      options: { delayMs?: number; ignore?: number; hold?: Promise<unknown> } = {},
    ) {
      const s = await SimulatedShutter.start(broker.url, {
        id,
        base: 'u4/300',
        ...broker.login,
        ...options,
      });
      closers.push(() => s.close());
      return s;
    }

    /** A command service on its own MQTT client, as a node runs one. */
    async function service(options: { ackTimeoutMs?: number; maxAttempts?: number } = {}) {
      const results: CommandResult[] = [];
      const heard: Incoming[] = [];
      const link = mqttJsLink(await client());
      const svc = new CommandService({
        owner: 'node-1',
        ledger: new CommandLedger(store.db),
        transport: new MqttCommandTransport(link),
        units: new UnitResolver(
          new MemoryDirectory([
            { id: 's1', customerId: 'c1', location: 'u4/300' },
            { id: 's2', customerId: 'c1', location: 'u4/300' },
          ]),
        ),
        options: {
          // Long enough that a loaded machine never makes a prompt echo late:
          // the tests that count attempts would see a resend.
          ackTimeoutMs: 2_000,
          maxAttempts: 3,
          ttlMs: 10_000,
          backoff: { initialMs: 100, maxMs: 400 },
          ...options,
        },
        events: { result: (r) => results.push(r), message: (m) => heard.push(m) },
      });
      await svc.start();
      closers.push(() => svc.close());
      return { svc, results, heard, link };
    }

    const until = (check: () => boolean, ms = 10_000) =>
      waitFor(
        async () => {
          if (!check()) throw new Error('not yet');
        },
        ms,
        20,
      );

    it('confirms an order on the shutter echo', async () => {
      const s1 = await shutter('s1', { delayMs: 50 });
      const { svc, results, heard } = await service();
      await svc.submit({ target: SHUTTERS, order: 'up', dest: 's1' });
      await until(() => results.length === 1);
      assert.equal(results[0].state, 'confirmed');
      assert.equal(results[0].status, 'open');
      assert.equal(results[0].attempts, 1);
      assert.ok(results[0].latencyMs! >= 50, `latency ${results[0].latencyMs}`);
      assert.deepEqual(s1.received, [{ order: 'up', dest: 's1' }]);
      assert.equal(heard[0].topic, 'u4/300/shutter');
      assert.deepEqual(heard[0].payload, { order: 'idle', unitID: 's1', status: 'open' });
    });

    it('aggregates the echoes of every unit for dest "all"', async () => {
      await shutter('s1', { delayMs: 30 });
      await shutter('s2', { delayMs: 120 });
      const { svc, results } = await service();
      await svc.submit({ target: SHUTTERS, order: 'down', dest: 'all' });
      await until(() => results.length === 1);
      assert.equal(results[0].state, 'confirmed');
      assert.deepEqual(results[0].status, { s1: 'closed', s2: 'closed' });
      assert.deepEqual(Object.keys(results[0].units), ['s1', 's2']);
    });

    it('retries an unanswered order, and times out when nothing answers', async () => {
      const deafOnce = await shutter('s1', { ignore: 1 });
      const { svc, results } = await service({ ackTimeoutMs: 1_000 });
      await svc.submit({ target: SHUTTERS, order: 'stop', dest: 's1' });
      await until(() => results.length === 1);
      assert.equal(results[0].state, 'confirmed');
      assert.equal(results[0].attempts, 2);
      assert.equal(deafOnce.orders, 2);
      deafOnce.ignore = Infinity;
      await svc.submit({ target: SHUTTERS, order: 'up', dest: 's1' });
      await until(() => results.length === 2);
      assert.equal(results[1].state, 'timeout');
      assert.equal(results[1].attempts, 3);
      assert.equal(deafOnce.orders, 5);
    });

    it('completes an order across a broker restart, exactly once', async () => {
      // The echo waits until the broker is down, however long stopping it takes.
      let brokerDown!: () => void;
      const hold = new Promise<void>((resolve) => (brokerDown = resolve));
      const s1 = await shutter('s1', { delayMs: 400, hold });
      const { svc, results } = await service({ ackTimeoutMs: 1_000, maxAttempts: 5 });
      await svc.submit({ target: SHUTTERS, order: 'up', dest: 's1' });
      await until(() => s1.received.length === 1);
      await broker.stop();
      await until(() => !s1.client.connected);
      brokerDown();
      await until(() => s1.lost === 1); // the echo falls due while the broker is down: lost
      await broker.start();
      await until(() => results.length === 1);
      assert.equal(results[0].state, 'confirmed');
      assert.ok(results[0].attempts >= 2, 'the lost echo made it send again');
      await delay(1_500);
      assert.equal(results.length, 1, 'one result');
    });

    it('keeps orders while the broker is down and sends them when it is back', async () => {
      await shutter('s1');
      const { svc, results, link } = await service();
      await broker.stop();
      await until(() => !link.isConnected());
      const { result } = await svc.submit({ target: SHUTTERS, order: 'down', dest: 's1' });
      assert.equal(result.state, 'queued');
      await delay(300);
      const waiting = await new CommandLedger(store.db).get(result.commandId);
      assert.deepEqual([waiting?.state, waiting?.attempts], ['queued', 0], 'kept, not sent');
      await broker.start();
      await until(() => results.length === 1);
      assert.equal(results[0].state, 'confirmed');
    });

    it('resumes a pending command after a process restart', async () => {
      const first = await service({ ackTimeoutMs: 300 });
      const { result } = await first.svc.submit({ target: SHUTTERS, order: 'up', dest: 's1' });
      await first.svc.close(); // the process stops before any answer
      await shutter('s1');
      const second = await service({ ackTimeoutMs: 300 });
      await until(() => second.results.length === 1);
      assert.equal(second.results[0].commandId, result.commandId);
      assert.equal(second.results[0].state, 'confirmed');
      assert.equal(first.results.length, 0);
    });

    it('sends an order with an idempotency key once', async () => {
      const s1 = await shutter('s1');
      const { svc, results } = await service();
      const a = await svc.submit({
        target: SHUTTERS,
        order: 'up',
        dest: 's1',
        idempotencyKey: 'k-1',
      });
      const b = await svc.submit({
        target: SHUTTERS,
        order: 'up',
        dest: 's1',
        idempotencyKey: 'k-1',
      });
      assert.equal(b.duplicate, true);
      assert.equal(b.result.commandId, a.result.commandId);
      await until(() => results.length === 1);
      await delay(300);
      assert.equal(s1.received.length, 1);
    });
  });
}
