// The flow validator on fixture flows, one per kind of problem, and on every
// shipped flow against the node types of the installed packages.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { catalogOf } from '../../../lib/flows/catalog';
import { formatProblem, FlowProblem } from '../../../lib/flows/flow-file';
import { installedCatalog } from '../../../lib/flows/installed-types';
import { validateFlowText } from '../../../lib/flows/validate';

const ROOT = path.join(__dirname, '..', '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'flows');

// The types the fixtures use, as a server would list them.
const catalog = catalogOf(
  [
    ...['inject', 'debug', 'change', 'link in', 'link out', 'mqtt in', 'mqtt out', 'mqtt-broker'],
    ...['tls-config', 'sensflow-registry', 'eot-server', 'eot-in', 'eot-out', 'history-out'],
    ...['history-store', 'device-watchdog', 'ui-base', 'ui-theme', 'ui-page', 'ui-group'],
    ...['ui-button', 'ui-template'],
  ],
  'the test catalog',
);

function check(fixture: string) {
  return validateFlowText(fs.readFileSync(path.join(FIXTURES, fixture), 'utf8'), catalog);
}

/** Problems as `code id: message` lines, easy to compare whole. */
function lines(problems: FlowProblem[]): string[] {
  return problems.map((p) => `${p.code} ${p.node?.id ?? '-'}: ${p.message}`);
}

describe('flow validator', () => {
  it('passes a flow using tabs, a subflow, a group, links, config nodes and dashboard nodes', () => {
    const { nodes, problems } = check('valid.json');
    assert.deepEqual(lines(problems), []);
    assert.equal(nodes.length, 22);
  });

  it('names unknown node types and instances of subflows not in the file', () => {
    assert.deepEqual(lines(check('unknown-type.json').problems), [
      'unknown-type n-fancy: unknown node type (not in the test catalog)',
      'unknown-type n-sub: instance of subflow nowhere, which is not in the file',
      'unknown-type cfg-odd: unknown node type (not in the test catalog)',
    ]);
  });

  it('names config nodes that are missing, unset when required, or of the wrong type', () => {
    assert.deepEqual(lines(check('missing-config.json').problems), [
      'missing-config cfg-eot: registry names sensflow-registry config node gone-registry, which is not in the file',
      'missing-config cfg-group: no ui-page config node set in page',
      'missing-config n-eot-out: server names eot-server config node no-such-server, which is not in the file',
      'missing-config n-mqtt: no mqtt-broker config node set in broker',
      'missing-config n-button: group names ui-group config node no-such-group, which is not in the file',
      'wrong-config-type n-history: store names eot-server cfg-eot "EOT", not a history-store config node',
      'wrong-config-type n-watchdog: registry names eot-in n-eot-in "frames", not a sensflow-registry config node',
    ]);
  });

  it('names wires and links to nodes not in the file or on another tab', () => {
    assert.deepEqual(lines(check('dangling-wire.json').problems), [
      'dangling-wire n-inject: output 1 is wired to n-deleted, which is not in the file',
      'dangling-wire n-inject: output 2 is wired to n-other-tab (debug), which is not on the same tab',
      'dangling-wire n-link: linked to n-gone-in, which is not in the file',
      'dangling-wire n-link: linked to debug n-debug "out", not a link in',
      'bad-node n-bad-wires: wires is not a list of id lists, one per output',
    ]);
  });

  it('names duplicate ids with both nodes', () => {
    assert.deepEqual(lines(check('duplicate-id.json').problems), [
      'duplicate-id n-1: id also used by inject n-1 "first"',
    ]);
  });

  it('names nodes on a missing tab, on a node that is no tab, or in a missing group', () => {
    assert.deepEqual(lines(check('missing-tab.json').problems), [
      'missing-tab n-lost: on tab tab-gone, which is not in the file',
      'missing-tab n-on-config: on sensflow-registry cfg-registry "store", which is not a tab or subflow',
      'missing-group n-grouped: in group grp-gone, which is not a group in the file',
    ]);
  });

  it('says when the text is not a flow: not JSON, not an array, no nodes', () => {
    const notJson = check('not-json.json').problems;
    assert.equal(notJson.length, 1);
    assert.equal(notJson[0].code, 'not-a-flow');
    assert.match(notJson[0].message, /^not JSON \(/);
    assert.deepEqual(lines(check('not-a-flow.json').problems), [
      'not-a-flow -: a flow is a JSON array of nodes; this file holds an object',
    ]);
    assert.deepEqual(lines(check('empty.json').problems), [
      'not-a-flow -: the flow holds no nodes',
    ]);
  });

  it('names elements that are not nodes, and never shows credentials', () => {
    const { problems } = check('bad-nodes.json');
    assert.deepEqual(lines(problems), [
      'bad-node -: element 2: a string, not a node object',
      'bad-node -: element 3: a node without an id',
      'bad-node -: element 4: node n-untyped has no type',
      'bad-node n-creds: credentials is not an object',
    ]);
    assert.ok(!JSON.stringify(problems).includes('secret-in-a-string'));
  });

  it('reads the v2 admin API shape {rev, flows} as a flow', () => {
    const text = JSON.stringify({ rev: 'abc', flows: [{ id: 't', type: 'tab', label: 'T' }] });
    assert.deepEqual(validateFlowText(text, catalog).problems, []);
  });

  it('formats one line per problem naming id, type and name, escaping control characters', () => {
    const [problem] = validateFlowText(
      JSON.stringify([{ id: 'n\n1', type: 'nope', name: 'say "hi"' }]),
      catalog,
    ).problems;
    assert.equal(
      formatProblem(problem),
      'node n\\n1 (nope "say \\"hi\\""): unknown node type (not in the test catalog)',
    );
  });
});

describe('shipped flows against the installed node types', () => {
  const installed = installedCatalog(ROOT);
  const files = fs.readdirSync(path.join(ROOT, 'flows')).filter((f) => f.endsWith('.json'));

  it('finds the core, Dashboard 2.0 and Sensflow node types', () => {
    for (const type of ['inject', 'mqtt-broker', 'link call', 'ui-base', 'ui-chart', 'eot-in'])
      assert.ok(installed.has(type), type);
    assert.ok(!installed.has('fancy-widget'));
  });

  for (const file of files) {
    it(`passes flows/${file}`, () => {
      const text = fs.readFileSync(path.join(ROOT, 'flows', file), 'utf8');
      assert.deepEqual(validateFlowText(text, installed).problems.map(formatProblem), []);
    });
  }

  it('passes the valid fixture against the installed types too', () => {
    const text = fs.readFileSync(path.join(FIXTURES, 'valid.json'), 'utf8');
    assert.deepEqual(validateFlowText(text, installed).problems.map(formatProblem), []);
  });
});
