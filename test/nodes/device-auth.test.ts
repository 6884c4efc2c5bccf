// device-auth in a real Node-RED runtime with the real registry on SQLite:
// AUTH2 over a challenge it issued or one the flow vouches for, the seed's AUTH
// with its replay window, and every refusal on the second output.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Node, NodeMessage } from 'node-red';
import { auth2Mac, authDigest } from '../../lib/eot/auth';
import deviceAuth from '../../nodes/device-auth/device-auth';
import registryNode from '../../nodes/sensflow-registry/sensflow-registry';
import type { RegistryConfigNode } from '../../nodes/sensflow-registry/registry-node';
import { helper, load, startServer, stopServer } from '../support/node-helper';

type Spy = Node & { on(event: 'input', fn: (msg: NodeMessage) => void): void };
type Answer = { out: 'identity' | 'rejection'; msg: NodeMessage & { nonce?: string } };

describe('device-auth node', function () {
  this.timeout(30_000);
  let serial: string;
  let ask: (msg: Record<string, unknown>) => Promise<Answer>;

  beforeEach(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-device-auth-'));
    await startServer();
    await load(
      [registryNode, deviceAuth],
      [
        { id: 'tab', type: 'tab' },
        { id: 'r1', type: 'sensflow-registry', store: 'sqlite', file: path.join(dir, 'r.db') },
        {
          id: 'a1',
          type: 'device-auth',
          z: 'tab',
          registry: 'r1',
          separator: '|',
          legacyAuth: true,
          throttleFailures: 4,
          throttleWindow: 60,
          throttleLock: 300,
          wires: [['ok'], ['no']],
        },
        { id: 'ok', type: 'helper', z: 'tab' },
        { id: 'no', type: 'helper', z: 'tab' },
      ],
    );
    const registry = await (helper.getNode('r1') as RegistryConfigNode).registry();
    await registry.customers.add({ id: 'acme', name: 'ACME' });
    serial = (
      await registry.addDevice({ id: 'gw-1', type: 'bbgw', customerId: 'acme', location: 'u4/300' })
    ).serial;
    await registry.addDevice({
      id: 'gw-2',
      type: 'bbgw',
      customerId: 'acme',
      location: 'u4/300',
      serial: 'gw-2-serial',
    });
    const answers: Answer[] = [];
    const waiting: Array<(a: Answer) => void> = [];
    const push = (a: Answer) => (waiting.length ? waiting.shift()!(a) : answers.push(a));
    (helper.getNode('ok') as Spy).on('input', (msg) => push({ out: 'identity', msg }));
    (helper.getNode('no') as Spy).on('input', (msg) => push({ out: 'rejection', msg }));
    ask = (msg) => {
      helper.getNode('a1').receive(msg as NodeMessage);
      return new Promise((resolve) =>
        answers.length ? resolve(answers.shift()!) : waiting.push(resolve),
      );
    };
  });
  afterEach(async () => {
    await stopServer();
  });

  const reason = (a: Answer) => (a.msg.payload as { reason: string }).reason;

  it('issues a challenge and accepts an AUTH2 frame over it, once', async () => {
    const challenge = await ask({ topic: 'nonce' });
    assert.equal(challenge.out, 'identity');
    const nonce = challenge.msg.nonce!;
    assert.match(nonce, /^[0-9a-f]{32}$/);
    assert.equal((challenge.msg.payload as { hello: string }).hello, `SERVER|*|HELLO|1|${nonce}`);
    const frame = `gw-1|SERVER|AUTH2|bbgw|${nonce}|${auth2Mac(serial, nonce, 'gw-1', 'bbgw')}\u0004`;
    const ok = await ask({ payload: frame });
    assert.equal(ok.out, 'identity');
    assert.deepEqual(ok.msg.payload, {
      id: 'gw-1',
      type: 'bbgw',
      customerId: 'acme',
      location: 'u4/300',
      mode: 'AUTH2',
    });
    const again = await ask({ payload: frame });
    assert.deepEqual([again.out, reason(again)], ['rejection', 'bad_nonce']);
  });

  it('accepts AUTH2 over a nonce the flow vouches for, once', async () => {
    const nonce = 'ab'.repeat(16);
    const payload = {
      id: 'gw-1',
      type: 'bbgw',
      nonce,
      mac: auth2Mac(serial, nonce, 'gw-1', 'bbgw'),
    };
    assert.equal((await ask({ payload, nonce })).out, 'identity');
    assert.equal(reason(await ask({ payload, nonce })), 'replay');
    assert.equal(reason(await ask({ payload, nonce: 'cd'.repeat(16) })), 'bad_nonce');
  });

  it("checks the seed's AUTH with its replay window and strict random", async () => {
    const auth = (random: string, s = 'gw-2-serial') =>
      `gw-2|SERVER|AUTH|bbgw|${random}|${authDigest(s, random)}`;
    const ok = await ask({ payload: auth('12345') });
    assert.equal((ok.msg.payload as { mode: string }).mode, 'AUTH');
    assert.equal(reason(await ask({ payload: auth('12345') })), 'replay');
    assert.equal(reason(await ask({ payload: auth('123456') })), 'bad_format');
    assert.equal(reason(await ask({ payload: auth('54321', 'wrong') })), 'bad_digest');
  });

  it('rejects malformed and unknown logins, and throttles an address', async () => {
    assert.equal(reason(await ask({ payload: 'hello' })), 'bad_format');
    assert.equal(reason(await ask({ payload: { id: 'gw-1', type: 'bbgw' } })), 'bad_format');
    const unknown = {
      id: 'ghost',
      type: 'bbgw',
      random: '11111',
      digest: authDigest('x', '11111'),
    };
    assert.equal(reason(await ask({ payload: unknown, address: '10.1.1.1' })), 'unknown_id');
    for (let i = 0; i < 3; i++)
      await ask({ payload: { ...unknown, random: `2222${i}` }, address: '10.1.1.1' });
    const good = {
      id: 'gw-2',
      type: 'bbgw',
      random: '33333',
      digest: authDigest('gw-2-serial', '33333'),
    };
    assert.equal(reason(await ask({ payload: good, address: '10.1.1.1' })), 'throttled');
    assert.equal((await ask({ payload: good, address: '10.9.9.9' })).out, 'identity');
  });
});
