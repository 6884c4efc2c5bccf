// Deploy plans: a whole file replaces the server's flows; one tab replaces or
// joins them with the config nodes and subflows it uses, leaving the rest as
// it was; ids the server uses elsewhere stop the plan.
import assert from 'node:assert/strict';
import { findTab, planFull, planTab } from '../../../lib/flows/deploy-plan';
import type { FlowNode } from '../../../lib/flows/flow-file';

const tab = (id: string, label: string): FlowNode => ({ id, type: 'tab', label });
const node = (id: string, z: string, extra: Partial<FlowNode> = {}): FlowNode => ({
  id,
  type: 'debug',
  z,
  wires: [],
  ...extra,
});

// On the server: tabs One and Two, a shared registry config, a subflow.
const server: FlowNode[] = [
  tab('t1', 'One'),
  tab('t2', 'Two'),
  { id: 'cfg-reg', type: 'sensflow-registry', name: 'store', store: 'default' },
  { id: 'sf', type: 'subflow', name: 'Sub', in: [], out: [] },
  node('sf-inside', 'sf', { type: 'change', name: 'old inside' }),
  node('n1', 't1', { type: 'device-lookup', registry: 'cfg-reg' }),
  node('n2', 't2', { name: 'old two' }),
];

// In the file: Two again (changed, using the subflow and a new broker with
// credentials), a new tab Three, and the shared config.
const file: FlowNode[] = [
  tab('t2', 'Two'),
  tab('t3', 'Three'),
  { id: 'cfg-reg', type: 'sensflow-registry', name: 'store', store: 'default' },
  {
    id: 'cfg-broker',
    type: 'mqtt-broker',
    name: 'broker',
    tls: 'cfg-tls',
    credentials: { user: 'u', password: 'p' },
  },
  { id: 'cfg-tls', type: 'tls-config', name: 'tls' },
  { id: 'cfg-unused', type: 'tls-config', name: 'nobody uses me' },
  { id: 'sf', type: 'subflow', name: 'Sub', in: [], out: [] },
  node('sf-inside', 'sf', { type: 'change', name: 'new inside' }),
  node('n2', 't2', { name: 'new two', wires: [['n2b']] }),
  node('n2b', 't2', { type: 'mqtt out', broker: 'cfg-broker' }),
  node('n2c', 't2', { type: 'subflow:sf' }),
  node('n3', 't3', { type: 'device-lookup', registry: 'cfg-reg' }),
];

const ids = (nodes: FlowNode[]) => nodes.map((n) => n.id).sort();

describe('deploy plans', () => {
  it('a whole file replaces the server flows and says which tabs go', () => {
    const plan = planFull(file, server);
    assert.equal(plan.flows, file);
    assert.deepEqual(plan.tabs, [
      { id: 't2', label: 'Two', change: 'replaced', nodes: 3 },
      { id: 't3', label: 'Three', change: 'added', nodes: 1 },
      { id: 't1', label: 'One', change: 'removed', nodes: 1 },
    ]);
    // Broker and both tls configs added; the registry and the subflow are as
    // on the server (the nodes inside a subflow are not counted).
    assert.deepEqual(plan.globals, { added: 3, changed: 0, removed: 0 });
    assert.deepEqual(ids(plan.credentials), ['cfg-broker']);
    assert.deepEqual(plan.problems, []);
  });

  it('one tab replaces its namesake and keeps every other tab as it was', () => {
    const plan = planTab(file, tab('t2', 'Two'), server);
    assert.deepEqual(plan.problems, []);
    const byId = new Map(plan.flows.map((n) => [n.id, n]));
    // Tab One and its node untouched (the same objects the server gave).
    assert.equal(byId.get('t1'), server[0]);
    assert.equal(byId.get('n1'), server[5]);
    // Tab Two from the file, with the config nodes and subflow it uses.
    assert.equal(byId.get('n2')?.name, 'new two');
    assert.equal(byId.get('sf-inside')?.name, 'new inside');
    assert.deepEqual(ids(plan.flows), [
      ...['cfg-broker', 'cfg-reg', 'cfg-tls', 'n1', 'n2', 'n2b', 'n2c', 'sf', 'sf-inside'],
      ...['t1', 't2'],
    ]);
    // Not what the tab does not use: tab Three, the unused config node.
    assert.ok(!byId.has('t3') && !byId.has('cfg-unused'));
    assert.deepEqual(plan.tabs, [{ id: 't2', label: 'Two', change: 'replaced', nodes: 3 }]);
    assert.deepEqual(plan.globals, { added: 2, changed: 0, removed: 0 });
    assert.deepEqual(ids(plan.credentials), ['cfg-broker']);
    // The server's order is kept: One stays the first tab.
    assert.deepEqual(
      plan.flows.filter((n) => n.type === 'tab').map((n) => n.id),
      ['t1', 't2'],
    );
  });

  it('a tab the server does not have is added, the others kept', () => {
    const plan = planTab(file, tab('t3', 'Three'), server);
    assert.deepEqual(plan.problems, []);
    assert.deepEqual(ids(plan.flows), [...ids(server), 'n3', 't3'].sort());
    assert.deepEqual(plan.tabs, [{ id: 't3', label: 'Three', change: 'added', nodes: 1 }]);
    assert.deepEqual(plan.globals, { added: 0, changed: 0, removed: 0 });
  });

  it('counts a shared config node the file changes', () => {
    const changed = file.map((n) => (n.id === 'cfg-reg' ? { ...n, store: 'sqlite' } : n));
    const plan = planTab(changed, tab('t3', 'Three'), server);
    assert.deepEqual(plan.globals, { added: 0, changed: 1, removed: 0 });
    assert.equal(plan.flows.find((n) => n.id === 'cfg-reg')?.store, 'sqlite');
  });

  it('refuses a tab whose node ids the server uses on another tab, or for another type', () => {
    const clash = [
      tab('t3', 'Three'),
      node('n1', 't3'),
      { id: 'n2', type: 'tls-config', name: 'config with a taken id' },
      node('n3', 't3', { type: 'mqtt out', broker: 'n2' }),
    ];
    const plan = planTab(clash, clash[0], server);
    assert.deepEqual(
      plan.problems.map((p) => `${p.code} ${p.node?.id}: ${p.message}`),
      [
        'id-in-use n1: id already used on the server by device-lookup on tab t1 "One"',
        'id-in-use n2: id already used on the server by debug "old two" on tab t2 "Two"',
      ],
    );
  });

  it('finds a tab by id or by label, and says why not', () => {
    assert.equal(findTab(file, 't3'), file[1]);
    assert.equal(findTab(file, 'Three'), file[1]);
    assert.equal(
      findTab(file, 'Four'),
      'no tab "Four" in the file; its tabs: t2 "Two", t3 "Three"',
    );
    const twins = [tab('a', 'Same'), tab('b', 'Same')];
    assert.match(
      findTab(twins, 'Same') as string,
      /^several tabs are labelled "Same"; name one by id/,
    );
  });
});
