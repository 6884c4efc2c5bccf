// The alarm-rules and alarm-control nodes in a real Node-RED runtime: rules
// from a file (reloaded when it changes, the last good ones kept when it
// turns invalid), inline rules and the editor's check, the three outputs,
// and acknowledging and listing from a flow.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Node } from 'node-red';
import alarmControlNode from '../../nodes/alarm-control/alarm-control';
import alarmRulesNode from '../../nodes/alarm-rules/alarm-rules';
import registryNode from '../../nodes/sensflow-registry/sensflow-registry';
import type { RegistryConfigNode } from '../../nodes/sensflow-registry/registry-node';
import { callsOf, helper, load, startServer, stopServer } from '../support/node-helper';

type Msg = Record<string, unknown> & { payload?: unknown };
const NODES = [registryNode, alarmRulesNode, alarmControlNode];

const hotRules = (threshold: number) =>
  JSON.stringify({
    rules: [
      {
        name: 'hot',
        alarm: 'Too hot',
        severity: 'major',
        per: 'location',
        conditions: {
          all: [
            { fact: 'kind', operator: 'equal', value: 'temperature' },
            { fact: 'value', operator: 'greaterThan', value: threshold },
          ],
        },
        actions: [{ on: 'raise', target: { kind: 'shutter' }, order: 'up' }],
        notify: ['dashboard'],
      },
    ],
  });

/** Collects what a helper node receives; `next()` resolves with the next message. */
function collector(id: string) {
  const node = helper.getNode(id) as Node;
  const got: Msg[] = [];
  const waiting: Array<(m: Msg) => void> = [];
  (node as unknown as NodeJS.EventEmitter).on('input', (msg: Msg) => {
    const w = waiting.shift();
    if (w) w(msg);
    else got.push(msg);
  });
  return {
    next: (ms = 5000) =>
      new Promise<Msg>((resolve, reject) => {
        const m = got.shift();
        if (m) return resolve(m);
        const timer = setTimeout(() => reject(new Error(`nothing reached ${id}`)), ms);
        waiting.push((msg) => {
          clearTimeout(timer);
          resolve(msg);
        });
      }),
    pending: () => got.length,
  };
}

/** Waits for the node's status text to match (a green status when `pattern` is 'green'). */
async function statusText(node: Node, pattern: RegExp | 'green', ms = 5000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const calls = callsOf(node, 'status') as Array<{ text?: string; fill?: string }>;
    const status = calls[calls.length - 1];
    const last = status?.text ?? '';
    if (pattern === 'green' ? status?.fill === 'green' : pattern.test(last)) return last;
    if (Date.now() > deadline) throw new Error(`status "${last}" never matched ${pattern}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('alarm-rules and alarm-control nodes', function () {
  this.timeout(30_000);
  let dir: string;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-alarm-nodes-'));
    fs.mkdirSync(path.join(dir, 'rules'));
    await startServer();
  });
  afterEach(async () => {
    await stopServer();
  });

  function flow(rules: Record<string, unknown>) {
    return [
      {
        id: 'store',
        type: 'sensflow-registry',
        store: 'sqlite',
        file: path.join(dir, 'sensflow.db'),
      },
      {
        id: 'rules',
        type: 'alarm-rules',
        registry: 'store',
        ...rules,
        wires: [['alarms'], ['commands'], ['evaluations']],
      },
      {
        id: 'ctl',
        type: 'alarm-control',
        registry: 'store',
        action: 'msg',
        wires: [['results'], []],
      },
      { id: 'alarms', type: 'helper' },
      { id: 'commands', type: 'helper' },
      { id: 'evaluations', type: 'helper' },
      { id: 'results', type: 'helper' },
    ];
  }

  it('raises from a rule file, sends the command and the evaluation, and acknowledges from a flow', async () => {
    const file = path.join(dir, 'rules', 'hot.json');
    fs.writeFileSync(file, hotRules(28));
    await load(NODES, flow({ source: 'file', path: file }));
    const rules = helper.getNode('rules') as Node;
    const alarms = collector('alarms');
    const commands = collector('commands');
    const evaluations = collector('evaluations');
    const results = collector('results');
    await statusText(rules, 'green');

    rules.receive({
      topic: 'u4/300/temperature',
      payload: { value: 30, value_units: 'celsius' },
    } as never);
    const alarm = await alarms.next();
    const a = alarm.payload as {
      id: string;
      state: string;
      name: string;
      ruleId: string;
      location: string;
    };
    assert.equal(alarm.topic, 'Too hot');
    assert.equal(a.state, 'active_unack');
    assert.equal(a.ruleId, 'hot/hot');
    assert.equal(a.location, 'u4/300');
    assert.deepEqual(alarm.notify, ['dashboard']);
    assert.equal((alarm.transition as { event: string }).event, 'raise');

    const cmd = await commands.next();
    assert.deepEqual(cmd.payload, { order: 'up', dest: 'all' });
    assert.equal(cmd.topic, 'u4/300/shutter/command');
    assert.deepEqual(cmd.target, { base: 'u4/300', kind: 'shutter' });

    const ev = (await evaluations.next()).evaluation as { matched: string[]; evaluated: number };
    assert.deepEqual(ev.matched, ['hot/hot']);

    // Wire the alarm into alarm-control to acknowledge it.
    const ctl = helper.getNode('ctl') as Node;
    ctl.receive({
      topic: 'acknowledge',
      payload: { ...a, user: 'alice', comment: 'seen' },
    } as never);
    const acked = (await results.next()).payload as { state: string; ackedBy: string };
    assert.equal(acked.state, 'active_ack');
    assert.equal(acked.ackedBy, 'alice');
    const change = await alarms.next();
    assert.equal(
      (change.transition as { event: string }).event,
      'acknowledge',
      'rules node reports it too',
    );

    ctl.receive({ payload: { action: 'list', state: 'active' } } as never);
    const list = (await results.next()).payload as { total: number; items: Array<{ id: string }> };
    assert.equal(list.total, 1);
    assert.equal(list.items[0].id, a.id);
  });

  it('counts and ignores a reading without a number, without an error', async () => {
    const file = path.join(dir, 'rules', 'hot.json');
    fs.writeFileSync(file, hotRules(28));
    await load(NODES, flow({ source: 'file', path: file }));
    const rules = helper.getNode('rules') as Node;
    const errors: unknown[] = [];
    (rules as unknown as NodeJS.EventEmitter).on('call:error', (call: unknown) =>
      errors.push(call),
    );
    const evaluations = collector('evaluations');
    rules.receive({ topic: 'u4/300/temperature', payload: 'warm' } as never);
    const ev = (await evaluations.next()).evaluation as { ignored: string };
    assert.equal(ev.ignored, 'not-numeric');
    assert.deepEqual(errors, []);
  });

  it('reloads a changed file without a redeploy, and keeps the last good rules when it turns invalid', async () => {
    const file = path.join(dir, 'rules', 'hot.json');
    fs.writeFileSync(file, hotRules(28));
    await load(NODES, flow({ source: 'file', path: file }));
    const rules = helper.getNode('rules') as Node;
    const evaluations = collector('evaluations');
    await statusText(rules, 'green');
    const matched = async (value: number) => {
      rules.receive({ topic: 'u4/301/temperature', payload: value } as never);
      return ((await evaluations.next()).evaluation as { matched: string[] }).matched;
    };
    assert.deepEqual(await matched(25), []);

    fs.writeFileSync(file, hotRules(20));
    // The threshold changed: 25 now matches.
    const deadline = Date.now() + 5000;
    while ((await matched(25)).length === 0) {
      if (Date.now() > deadline) assert.fail('the changed file was not reloaded');
      await new Promise((r) => setTimeout(r, 50));
    }

    const broken = JSON.parse(hotRules(10));
    delete broken.rules[0].severity;
    fs.writeFileSync(file, JSON.stringify(broken));
    const status = await statusText(rules, /hot\.json/);
    assert.match(status, /hot\.json: rule "hot" \/: missing "severity"/);
    // Still the last good rules (threshold 20): 15 does not match, 25 does.
    assert.deepEqual(await matched(15), []);
    assert.deepEqual(await matched(25), ['hot/hot']);

    fs.writeFileSync(file, '{ not json');
    await statusText(rules, /not JSON/);
    assert.deepEqual(await matched(25), ['hot/hot']);
  });

  it('runs inline rules, and the editor check reports problems with their path', async () => {
    await load(NODES, flow({ source: 'inline', rules: hotRules(5), set: 'lab' }));
    const rules = helper.getNode('rules') as Node;
    const evaluations = collector('evaluations');
    rules.receive({ topic: 'bu/hall/temperature', payload: 6 } as never);
    assert.deepEqual(((await evaluations.next()).evaluation as { matched: string[] }).matched, [
      'lab/hot',
    ]);

    const good = await helper
      .request()
      .post('/alarm-rules/validate')
      .send({ rules: hotRules(5) });
    assert.deepEqual(good.body, { ok: true, rules: 1, problems: [] });
    const bad = await helper
      .request()
      .post('/alarm-rules/validate')
      .send({ rules: hotRules(5).replace('"greaterThan"', '"greaterThen"') });
    assert.equal(bad.body.ok, false);
    assert.match(
      bad.body.problems[0],
      /rule "hot" \/conditions\/all\/1\/operator: unknown operator "greaterThen"/,
    );
  });

  it('shows a red status naming the file when the first load fails, and still handles input', async () => {
    await load(NODES, flow({ source: 'file', path: path.join(dir, 'rules', 'missing.json') }));
    const rules = helper.getNode('rules') as Node;
    await statusText(rules, /missing\.json: \/: cannot read the file/);
    const evaluations = collector('evaluations');
    rules.receive({ topic: 'u4/300/temperature', payload: 30 } as never);
    assert.deepEqual(((await evaluations.next()).evaluation as { matched: string[] }).matched, []);
  });

  it('fails an alarm-control request that does not apply through done(err), changing nothing', async () => {
    await load(NODES, flow({ source: 'inline', rules: hotRules(5) }));
    const ctl = helper.getNode('ctl') as Node;
    const errors: Array<{ args: unknown[] }> = [];
    (ctl as unknown as NodeJS.EventEmitter).on('call:error', (call: { args: unknown[] }) =>
      errors.push(call),
    );
    ctl.receive({ payload: { action: 'acknowledge', alarmId: 'nope' } } as never);
    ctl.receive({ payload: { action: 'shelve', alarmId: 'x' } } as never);
    ctl.receive({ payload: { action: 'explode' } } as never);
    const deadline = Date.now() + 5000;
    while (errors.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    const texts = errors.map((e) => String(e.args[0]));
    assert.match(texts.join('\n'), /no open alarm nope/);
    assert.match(texts.join('\n'), /duration is required/);
    assert.match(texts.join('\n'), /action must be one of/);
    const store = await (helper.getNode('store') as RegistryConfigNode).store();
    const rows = await store.db.selectFrom('rule_alarm_transitions').selectAll().execute();
    assert.equal(rows.length, 0);
  });
});
