// Every shipped flow in flows/ loads into a real Sensflow runtime: no unknown
// node types, no dangling wires or missing config nodes, and the runtime
// starts it. The generated ones are what scripts/flows makes of its sources.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { flowText, shippedFlows } from '../../scripts/flows/build';
import {
  adminToken,
  deployFlows,
  ROOT,
  SensflowProcess,
  startSensflowProcess,
  testEnv,
} from '../support/sensflow-process';

const FLOWS = path.join(ROOT, 'flows');
type FlowNode = {
  id: string;
  type: string;
  z?: string;
  wires?: string[][];
  [key: string]: unknown;
};
/** Properties that name a config node (or a dashboard group/page) by id. */
const REFERENCES = ['registry', 'broker', 'server', 'store', 'eot', 'group', 'page', 'ui', 'theme'];

const files = fs.readdirSync(FLOWS).filter((f) => f.endsWith('.json'));

describe('shipped flows', function () {
  this.timeout(120_000);
  let sf: SensflowProcess;
  let token: string;

  before(async () => {
    sf = await startSensflowProcess({
      ...(await testEnv()),
      SENSFLOW_ADMIN_PASSWORD: 'flows-test-password',
    });
    token = await adminToken(sf.url, 'admin', 'flows-test-password');
  });
  after(async () => {
    await sf?.stop();
  });

  it('ships at least the default flow', () => {
    assert.ok(files.includes('default.json'));
  });

  it('ships the flows generated from scripts/flows (npm run flows)', () => {
    for (const [file, nodes] of Object.entries(shippedFlows())) {
      const shipped = fs.readFileSync(path.join(FLOWS, file), 'utf8');
      assert.ok(shipped === flowText(nodes), `flows/${file} is stale: run npm run flows`);
    }
  });

  for (const file of files) {
    describe(file, () => {
      const flow = JSON.parse(fs.readFileSync(path.join(FLOWS, file), 'utf8')) as FlowNode[];

      it('has unique ids and wires only to nodes it contains', () => {
        const ids = new Set(flow.map((n) => n.id));
        assert.equal(ids.size, flow.length, 'duplicate ids');
        for (const node of flow) {
          for (const target of (node.wires ?? []).flat()) {
            assert.ok(ids.has(target), `${node.id} is wired to missing ${target}`);
          }
          if (node.z) assert.ok(ids.has(node.z), `${node.id} is on missing tab ${node.z}`);
          for (const key of REFERENCES) {
            const ref = node[key];
            // The registry's own `store` says which kind of store, not a node.
            if (node.type === 'sensflow-registry' && key === 'store') continue;
            if (typeof ref === 'string' && ref !== '' && !ref.startsWith('${'))
              assert.ok(ids.has(ref), `${node.id}.${key} names missing ${ref}`);
          }
          for (const link of (node.links as string[] | undefined) ?? [])
            assert.ok(ids.has(link), `${node.id} links to missing ${link}`);
        }
      });

      it('names only node types the runtime knows', async () => {
        const res = await fetch(new URL('nodes', sf.url), {
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        });
        const known = new Set(
          ((await res.json()) as Array<{ types: string[] }>).flatMap((s) => s.types),
        );
        const structural = new Set(['tab', 'subflow', 'group', 'junction', 'comment']);
        const unknown = flow
          .map((n) => n.type)
          .filter((t) => !known.has(t) && !structural.has(t) && !t.startsWith('subflow:'));
        assert.deepEqual([...new Set(unknown)], []);
      });

      it('deploys and starts without missing types or errors', async () => {
        const from = sf.output().length;
        await deployFlows(sf, token, flow);
        const log = sf.output().slice(from);
        assert.doesNotMatch(log, /Waiting for missing types|missing types/i);
        assert.doesNotMatch(log, /\[error\]/);
      });
    });
  }
});
