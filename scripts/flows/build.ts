// Writes the shipped flows (flows/*.json) from these sources:
//   campus.json, eot-server.json, smart-home.json  one scenario each;
//   default.json  what a first start deploys: the Overview, every scenario
//                 and the demo's simulated devices.
// `npx tsx scripts/flows/build.ts` writes them; `--check` only says whether
// the files are up to date (a test runs it). flows/smart-meter.json is
// written by hand.
import fs from 'node:fs';
import path from 'node:path';
import { campus } from './campus';
import { eotServerFlow } from './eot-server';
import { FlowNode, Tab } from './kit';
import { overview } from './overview';
import { registry, uiBase, uiTheme } from './shared';
import { smartHome } from './smart-home';

export const FLOWS_DIR = path.join(__dirname, '..', '..', 'flows');

function simulators(): FlowNode[] {
  const t = new Tab(
    'sf-tab-simulators',
    'Demo: simulated devices',
    'Runs the demo devices (customers `demo-campus` and `demo-home`, added to the registry on the first start while SENSFLOW_DEMO is on): MQTT sensors, shutters, lighting, ventilation and relays, and EOT devices for the Device console.\n\nTo stop them, disable this tab and deploy; `sensflow demo remove` removes the demo devices and customers altogether.',
  );
  t.comment('sf-sim-about', [0, 0], 'Demo devices (their configuration has a "simulate" section)');
  t.add(
    'device-simulator',
    'sf-sim',
    [0, 1],
    {
      name: 'demo devices',
      registry: 'sf-registry',
      customers: '',
      mqttHost: '${SENSFLOW_MQTT_BROKER_HOST}',
      mqttPort: '${SENSFLOW_MQTT_BROKER_PORT}',
      eotHost: '127.0.0.1',
      eotPort: '${SENSFLOW_EOT_PORT}',
      readingEvery: '5',
      statusEvery: '10',
      eotRate: '0.2',
    },
    [],
  );
  return t.nodes;
}

/** One node per id, tabs first (as the editor exports them). */
function combine(...parts: FlowNode[][]): FlowNode[] {
  const seen = new Map<string, FlowNode>();
  for (const node of parts.flat()) if (!seen.has(node.id)) seen.set(node.id, node);
  const nodes = [...seen.values()];
  return [...nodes.filter((n) => n.type === 'tab'), ...nodes.filter((n) => n.type !== 'tab')];
}

export function shippedFlows(): Record<string, FlowNode[]> {
  return {
    'campus.json': combine(campus()),
    'eot-server.json': combine(eotServerFlow()),
    'smart-home.json': combine(smartHome()),
    'default.json': combine(overview, campus(), eotServerFlow(), smartHome(), simulators(), [
      uiBase,
      uiTheme,
      registry,
    ]),
  };
}

export function flowText(nodes: FlowNode[]): string {
  return `${JSON.stringify(nodes, null, 2)}\n`;
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, nodes] of Object.entries(shippedFlows())) {
    const target = path.join(FLOWS_DIR, file);
    const text = flowText(nodes);
    const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
    if (current === text) continue;
    if (check) {
      console.error(`flows/${file} is not up to date: run npm run flows`);
      stale++;
    } else {
      fs.writeFileSync(target, text);
      console.log(`wrote flows/${file} (${nodes.length} nodes)`);
    }
  }
  process.exitCode = stale > 0 ? 1 : 0;
}
