// `sensflow flows validate|deploy` end to end: the real `bin/sensflow` against
// a running Sensflow server and a stock Node-RED with the Sensflow nodes
// installed. A whole file replaces the flows, one tab leaves the others as
// they were, a flow naming a type the server lacks changes nothing, and a
// wrong password or an unreachable server gets one clear line.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NodeSetInfo } from '../../../lib/flows/catalog';
import type { FlowNode } from '../../../lib/flows/flow-file';
import { installedNodeSets } from '../../../lib/flows/installed-types';
import { freePort } from '../../support/net';
import {
  adminToken,
  ROOT,
  runSensflow,
  SensflowProcess,
  startSensflowProcess,
  testEnv,
} from '../../support/sensflow-process';
import { startStockNodeRed, StockNodeRed } from '../../support/stock-node-red';

const PASSWORD = 'flows-cli-password';
const SECRET = 'deploy-secret-9f3kq';
const fixture = (name: string) => path.join('test', 'fixtures', 'flows', name);
const fileNodes = (name: string) =>
  JSON.parse(fs.readFileSync(path.join(ROOT, fixture(name)), 'utf8')) as FlowNode[];

/** GET with an admin token, as JSON. */
async function getJson<T>(url: string, route: string, token: string, headers = {}): Promise<T> {
  const res = await fetch(new URL(route, url), {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...headers },
  });
  assert.equal(res.status, 200, `GET ${route}`);
  return (await res.json()) as T;
}

const serverFlows = (url: string, token: string) =>
  getJson<{ rev: string; flows: FlowNode[] }>(url, 'flows', token, {
    'node-red-api-version': 'v2',
  });

const onTab = (flows: FlowNode[], tab: string) => flows.filter((n) => n.id === tab || n.z === tab);

describe('sensflow flows', function () {
  this.timeout(120_000);

  describe('validate, without a server', () => {
    const shipped = fs.readdirSync(path.join(ROOT, 'flows')).filter((f) => f.endsWith('.json'));
    for (const file of shipped) {
      it(`passes flows/${file} (exit 0)`, async () => {
        const result = await runSensflow(['flows', 'validate', path.join('flows', file)], {});
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.match(result.stdout, /valid flow, \d+ nodes on \d+ tabs?\b/);
      });
    }

    it('reports each problem on one line naming id, type and name (exit 1), or as JSON', async () => {
      const text = await runSensflow(['flows', 'validate', fixture('unknown-type.json')], {});
      assert.equal(text.code, 1);
      assert.match(
        text.stdout,
        /unknown-type\.json: node n-fancy \(fancy-widget "from another palette"\): unknown node type/,
      );
      assert.match(text.stdout, /: 3 problems \(checked against Sensflow's installed nodes/);
      const json = await runSensflow(
        ['flows', 'validate', fixture('missing-config.json'), '--json'],
        {},
      );
      assert.equal(json.code, 1);
      const body = JSON.parse(json.stdout) as {
        valid: boolean;
        problems: Array<{ code: string; id: string }>;
      };
      assert.equal(body.valid, false);
      assert.deepEqual(
        body.problems.map((p) => p.id),
        ['cfg-eot', 'cfg-group', 'n-eot-out', 'n-mqtt', 'n-button', 'n-history', 'n-watchdog'],
      );
    });

    it('says what is wrong with the call (exit 2)', async () => {
      for (const args of [
        ['flows', 'validate'],
        ['flows', 'validate', 'no-such-file.json'],
        ['flows', 'validate', fixture('valid.json'), '--bogus'],
        ['flows', 'frobnicate'],
        ['flows', 'deploy', fixture('valid.json')],
        ['flows', 'deploy', fixture('valid.json'), '--url', 'not a url'],
        ['flows', 'deploy', fixture('valid.json'), '--url', 'http://admin:pw@127.0.0.1:1/'],
        [
          'flows',
          'deploy',
          fixture('valid.json'),
          '--url',
          'http://127.0.0.1:1/',
          '--type',
          'partial',
        ],
      ]) {
        const result = await runSensflow(args, {});
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, /^sensflow: /);
      }
    });
  });

  describe('against a running Sensflow', () => {
    let sf: SensflowProcess;
    let token: string;
    let env: Record<string, string>;
    const deploy = (args: string[], extraEnv: Record<string, string> = {}, input?: string) =>
      runSensflow(['flows', 'deploy', ...args, '--url', sf.url], { ...env, ...extraEnv }, input);

    before(async () => {
      sf = await startSensflowProcess({
        ...(await testEnv()),
        SENSFLOW_ADMIN_PASSWORD: PASSWORD,
      });
      token = await adminToken(sf.url, 'admin', PASSWORD);
      env = { SENSFLOW_ADMIN_PASSWORD: PASSWORD };
    });
    after(async () => {
      await sf?.stop();
    });

    it('reads from the installed packages the same node types the server lists', async () => {
      const listed = await getJson<NodeSetInfo[]>(sf.url, 'nodes', token);
      const typesOf = (sets: NodeSetInfo[], module: string) =>
        sets
          .filter((s) => s.module === module)
          .flatMap((s) => s.types)
          .sort();
      const installed = installedNodeSets(ROOT);
      for (const module of ['node-red', '@flowfuse/node-red-dashboard', 'sensflow']) {
        assert.ok(typesOf(listed, module).length > 0, module);
        assert.deepEqual(typesOf(installed, module), typesOf(listed, module), module);
      }
    });

    it('validates against the server node list with --url', async () => {
      const result = await runSensflow(
        ['flows', 'validate', path.join('flows', 'default.json'), '--url', sf.url],
        env,
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`checked against the node types of ${sf.url}`));
    });

    it('deploys a whole file, replacing the flows, with credentials encrypted and never shown', async () => {
      const result = await deploy([fixture('deploy-v1.json')]);
      assert.equal(result.code, 0, result.stderr);
      const out = result.stdout + result.stderr;
      assert.match(out, /\(full deploy, revision [0-9a-f]+\)/);
      assert.match(out, /tab d-tab-a "Alpha": added, 3 nodes/);
      assert.match(out, /tab d-tab-b "Beta": added, 3 nodes/);
      assert.match(out, /tab sf-tab-overview "Overview": removed \(not in the file\)/);
      assert.match(out, /credentials of d-broker \(mqtt-broker\) sent for the server to encrypt/);
      assert.ok(!out.includes(SECRET), 'the password is never printed');

      const { flows } = await serverFlows(sf.url, token);
      assert.deepEqual(
        flows.map((n) => n.id).sort(),
        fileNodes('deploy-v1.json')
          .map((n) => n.id)
          .sort(),
      );
      assert.deepEqual(await getJson(sf.url, 'credentials/mqtt-broker/d-broker', token), {
        user: 'deploy-user',
        has_password: true,
      });
      const stored = fs.readFileSync(path.join(sf.home, 'flows_cred.json'), 'utf8');
      assert.ok(!stored.includes(SECRET) && !stored.includes('deploy-user'), 'encrypted at rest');
    });

    it('deploys one tab by its label, leaving the other tabs and credentials as they were', async () => {
      const before = await serverFlows(sf.url, token);
      const result = await deploy([fixture('deploy-v2.json'), '--tab', 'Beta']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /\(flows deploy, revision/);
      assert.match(result.stdout, /tab d-tab-b "Beta": replaced, 4 nodes/);
      assert.doesNotMatch(result.stdout, /Alpha|Gamma/);

      const after = await serverFlows(sf.url, token);
      assert.notEqual(after.rev, before.rev);
      // Alpha exactly as it was (the file's changed Alpha was not deployed).
      assert.deepEqual(onTab(after.flows, 'd-tab-a'), onTab(before.flows, 'd-tab-a'));
      assert.equal(after.flows.find((n) => n.id === 'd-a-change')?.name, 'alpha v1');
      // Beta as in the file; Gamma not deployed.
      const v2 = fileNodes('deploy-v2.json');
      assert.deepEqual(
        onTab(after.flows, 'd-tab-b')
          .map((n) => n.id)
          .sort(),
        onTab(v2, 'd-tab-b')
          .map((n) => n.id)
          .sort(),
      );
      assert.equal(after.flows.find((n) => n.id === 'd-b-parse')?.name, 'beta v2');
      assert.ok(!after.flows.some((n) => n.id === 'd-tab-c'));
      // The broker config, not sent, keeps its credentials.
      assert.deepEqual(await getJson(sf.url, 'credentials/mqtt-broker/d-broker', token), {
        user: 'deploy-user',
        has_password: true,
      });
    });

    it('adds a tab the server does not have, by id, with the config node it uses', async () => {
      const before = await serverFlows(sf.url, token);
      const result = await deploy([fixture('deploy-v2.json'), '--tab', 'd-tab-c']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /tab d-tab-c "Gamma": added, 2 nodes/);
      assert.match(result.stdout, /config nodes and subflows: 1 added, 0 changed, 0 removed/);
      const after = await serverFlows(sf.url, token);
      for (const tab of ['d-tab-a', 'd-tab-b'])
        assert.deepEqual(onTab(after.flows, tab), onTab(before.flows, tab), tab);
      assert.ok(after.flows.some((n) => n.id === 'd-tls'));
      assert.deepEqual(
        onTab(after.flows, 'd-tab-c')
          .map((n) => n.id)
          .sort(),
        ['d-c-inject', 'd-c-request', 'd-tab-c'],
      );
    });

    it('refuses a flow naming a type the server lacks and leaves the running flows unchanged', async () => {
      const before = await serverFlows(sf.url, token);
      const result = await deploy([fixture('unknown-type.json')]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /node n-fancy \(fancy-widget "from another palette"\): unknown node type \(not in the node types of http/,
      );
      assert.match(result.stderr, /3 problems; nothing deployed to http/);
      assert.deepEqual(await serverFlows(sf.url, token), before);
    });

    it('refuses a wrong password with one clear line (exit 3), changing nothing', async () => {
      const before = await serverFlows(sf.url, token);
      const result = await deploy([fixture('deploy-v1.json')], {
        SENSFLOW_ADMIN_PASSWORD: 'not-the-password',
      });
      assert.equal(result.code, 3);
      assert.equal(
        result.stderr.trim(),
        `sensflow: ${sf.url} refused the login of "admin": wrong user or password`,
      );
      assert.deepEqual(await serverFlows(sf.url, token), before);
    });

    it('takes the password from a file or standard input, never from the command line', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flows-cli-'));
      const file = path.join(dir, 'password');
      fs.writeFileSync(file, `${PASSWORD}\n`, { mode: 0o600 });
      try {
        const args = [fixture('deploy-v2.json'), '--tab', 'Beta'];
        const fromFile = await deploy([...args, '--password-file', file], {
          SENSFLOW_ADMIN_PASSWORD: '',
        });
        assert.equal(fromFile.code, 0, fromFile.stderr);
        const fromStdin = await deploy(
          [...args, '--password-stdin'],
          { SENSFLOW_ADMIN_PASSWORD: '' },
          `${PASSWORD}\n`,
        );
        assert.equal(fromStdin.code, 0, fromStdin.stderr);
        const none = await deploy(args, { SENSFLOW_ADMIN_PASSWORD: '' });
        assert.equal(none.code, 2);
        assert.match(
          none.stderr,
          /the server asks for a login: give the password in SENSFLOW_ADMIN_PASSWORD/,
        );
        const hash = await deploy(args, { SENSFLOW_ADMIN_PASSWORD: '$2b$08$' + 'x'.repeat(53) });
        assert.equal(hash.code, 2);
        assert.match(hash.stderr, /holds a bcrypt hash/);
        const asArgument = await deploy([...args, '--password', PASSWORD]);
        assert.equal(asArgument.code, 2);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('says which tab it cannot find (exit 2)', async () => {
      const result = await deploy([fixture('deploy-v2.json'), '--tab', 'Delta']);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /--tab: no tab "Delta" in the file; its tabs: d-tab-a "Alpha"/);
    });

    it('says the server cannot be reached, in one line (exit 3)', async () => {
      const url = `http://127.0.0.1:${await freePort()}/`;
      const result = await runSensflow(
        ['flows', 'deploy', fixture('deploy-v1.json'), '--url', url],
        env,
      );
      assert.equal(result.code, 3);
      assert.equal(
        result.stderr.trim(),
        `sensflow: cannot reach ${url}: connection refused (is the server running on that port?)`,
      );
    });
  });

  describe('against a stock Node-RED with the Sensflow nodes installed', () => {
    let nr: StockNodeRed;
    let token: string;
    const env = { SENSFLOW_ADMIN_PASSWORD: 'stock-password', SENSFLOW_ADMIN_USER: 'integrator' };

    before(async () => {
      nr = await startStockNodeRed({ user: 'integrator', password: 'stock-password' });
      token = await adminToken(nr.url, 'integrator', 'stock-password');
    });
    after(async () => {
      await nr?.stop();
    });

    it('deploys a file using Sensflow nodes, then one tab of another, keeping the rest', async () => {
      const whole = await runSensflow(
        ['flows', 'deploy', fixture('deploy-v1.json'), '--url', nr.url],
        env,
      );
      assert.equal(whole.code, 0, whole.stderr);
      const first = await serverFlows(nr.url, token);
      assert.equal(first.flows.find((n) => n.id === 'd-b-parse')?.type, 'survey-parse');

      const tab = await runSensflow(
        ['flows', 'deploy', fixture('deploy-v2.json'), '--url', nr.url, '--tab', 'Gamma', '--json'],
        env,
      );
      assert.equal(tab.code, 0, tab.stderr);
      const report = JSON.parse(tab.stdout) as { type: string; tabs: unknown[]; globals: unknown };
      assert.equal(report.type, 'flows');
      assert.deepEqual(report.tabs, [{ id: 'd-tab-c', label: 'Gamma', change: 'added', nodes: 2 }]);
      assert.deepEqual(report.globals, { added: 1, changed: 0, removed: 0 });
      const second = await serverFlows(nr.url, token);
      for (const id of ['d-tab-a', 'd-tab-b'])
        assert.deepEqual(onTab(second.flows, id), onTab(first.flows, id), id);
      assert.ok(second.flows.some((n) => n.id === 'd-tab-c'));
      assert.doesNotMatch(nr.output(), /Waiting for missing types/);
    });

    it('refuses an unknown type there too, changing nothing', async () => {
      const before = await serverFlows(nr.url, token);
      const result = await runSensflow(
        ['flows', 'deploy', fixture('unknown-type.json'), '--url', nr.url],
        env,
      );
      assert.equal(result.code, 1);
      assert.match(result.stderr, /nothing deployed/);
      assert.deepEqual(await serverFlows(nr.url, token), before);
    });
  });
});
