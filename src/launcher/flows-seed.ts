// The first start's flows: flows/default.json, deployed through Node-RED's
// runtime API so that the broker login is stored as an encrypted credential,
// never written in a flow file.
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../lib/util/package-root';
import { FLOW_FILE } from './red-settings';

export type FlowNode = { id: string; type: string; [key: string]: unknown };

/** The placeholder that marks a broker config node as "Sensflow's broker". */
export const BROKER_HOST_PLACEHOLDER = '${SENSFLOW_MQTT_BROKER_HOST}';

export function isFirstStart(home: string): boolean {
  return !fs.existsSync(path.join(home, FLOW_FILE));
}

export function readFlowFile(name = 'default.json'): FlowNode[] {
  const file = path.join(packageRoot(), 'flows', name);
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(parsed)) throw new Error(`${file} is not a flow (a JSON array of nodes)`);
  return parsed as FlowNode[];
}

/** Gives every broker config node that points at Sensflow's broker the
 *  service login, as credentials (encrypted by Node-RED on deploy). */
export function withBrokerLogin(
  flows: FlowNode[],
  login: { username: string; password: string } | undefined,
): FlowNode[] {
  return flows.map((node) =>
    node.type === 'mqtt-broker' && node.broker === BROKER_HOST_PLACEHOLDER && login
      ? { ...node, credentials: { user: login.username, password: login.password } }
      : node,
  );
}
