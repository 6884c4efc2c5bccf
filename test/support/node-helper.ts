// node-red-node-test-helper, set up once for the node tests: a real Node-RED
// runtime in this process, with our nodes loaded from their TypeScript source.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Node } from 'node-red';
import helper from 'node-red-node-test-helper';
import { waitFor } from './net';

// A user dir of its own, so nodes that keep files (secrets, spools) never
// write into the working tree.
export const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-nodes-'));
// The typings ask for every setting; the helper fills in the rest.
helper.init(require.resolve('node-red'), { userDir } as Parameters<typeof helper.init>[1]);

export { helper };

/** Loads `nodes` with `flow` (and credentials by node id), resolving when done. */
export function load(
  nodes: unknown[],
  flow: Array<{ id: string; type: string; [key: string]: unknown }>,
  credentials: Record<string, Record<string, string>> = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      helper.load(nodes as never, flow, credentials, () => resolve());
    } catch (err) {
      reject(err as Error);
    }
  });
}

/** Runtime settings for the next loads, always with the test user dir. */
export function settings(extra: Record<string, unknown> = {}): void {
  helper.settings({ userDir, ...extra } as unknown as Parameters<typeof helper.settings>[0]);
}

export function startServer(): Promise<void> {
  return new Promise((resolve) => helper.startServer(() => resolve()));
}

export async function stopServer(): Promise<void> {
  await helper.unload();
  await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
}

/** Resolves once the client of an `mqtt-broker` config node has its
 *  subscription to `filter` acknowledged by the broker (SUBACK): a message
 *  published before then is not delivered, and a fixed wait is not enough on a
 *  loaded machine. Reads mqtt.js's own books (the subscription it would renew
 *  on reconnect, and the subscribes still awaiting their SUBACK). */
export function subscribed(config: unknown, filter: string, timeoutMs = 10_000): Promise<void> {
  type Books = {
    connected: boolean;
    _resubscribeTopics: Record<string, unknown>;
    messageIdToTopic: Record<string, string[]>;
  };
  return waitFor(async () => {
    const client = (config as { client?: Books }).client;
    if (!client?.connected) throw new Error(`the broker's client is not connected`);
    if (!(filter in client._resubscribeTopics)) throw new Error(`${filter} is not subscribed`);
    if (Object.values(client.messageIdToTopic).some((topics) => topics.includes(filter)))
      throw new Error(`${filter} awaits its SUBACK`);
  }, timeoutMs);
}

type Spied = { getCalls(): Array<{ thisValue: unknown; args: unknown[] }> };

/** The first arguments of a node's calls of `method`, oldest first. The helper
 *  spies on the methods of every node at once: this keeps this node's calls
 *  (another node's status set last must not hide or fake this one's). */
export function callsOf(node: Node, method: 'status' | 'error' | 'send'): unknown[] {
  return ((node as unknown as Record<string, Spied>)[method] as Spied)
    .getCalls()
    .filter((call) => call.thisValue === node)
    .map((call) => call.args[0]);
}
