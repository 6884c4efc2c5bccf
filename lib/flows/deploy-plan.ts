// What a deploy posts and what it changes: a whole file replaces the server's
// flows; one tab replaces (or adds) that tab in the server's flows, with the
// config nodes and subflows it uses, and leaves every other tab as it is. The
// result is one complete configuration for one `POST /flows`, so the server
// takes all of it or none of it.
import { isDeepStrictEqual } from 'node:util';
import {
  FlowNode,
  FlowProblem,
  isGlobal,
  isObject,
  isSubflow,
  isTab,
  nodeName,
  nodeRef,
  printable,
  SUBFLOW_INSTANCE,
} from './flow-file';

export interface TabChange {
  id: string;
  label?: string;
  change: 'added' | 'replaced' | 'removed';
  /** Nodes on the tab (in the file, or on the server for a removed tab). */
  nodes: number;
}

export interface DeployPlan {
  /** The complete configuration to post. */
  flows: FlowNode[];
  tabs: TabChange[];
  /** Tab-less nodes (config nodes, subflows) the deploy adds, changes (same
   *  id, other content) or removes. */
  globals: { added: number; changed: number; removed: number };
  /** Nodes whose credentials go to the server (to be encrypted there); ids only. */
  credentials: FlowNode[];
  /** Reasons the plan cannot be deployed (ids taken on the server). */
  problems: FlowProblem[];
}

/** The file replaces the server's flows. */
export function planFull(file: FlowNode[], server: FlowNode[]): DeployPlan {
  const serverIds = new Set(server.map((n) => n.id));
  const fileIds = new Set(file.map((n) => n.id));
  const tabs: TabChange[] = [
    ...file
      .filter(isTab)
      .map((tab) => tabChange(tab, file, serverIds.has(tab.id) ? 'replaced' : 'added')),
    ...server
      .filter((tab) => isTab(tab) && !fileIds.has(tab.id))
      .map((tab) => tabChange(tab, server, 'removed')),
  ];
  const serverById = new Map(server.map((n) => [n.id, n]));
  const fileGlobals = file.filter(isTabless);
  return {
    flows: file,
    tabs,
    globals: {
      added: fileGlobals.filter((n) => !serverById.has(n.id)).length,
      changed: fileGlobals.filter((n) => changedOn(serverById, n)).length,
      removed: server.filter((n) => isTabless(n) && !fileIds.has(n.id)).length,
    },
    credentials: file.filter(hasCredentials),
    problems: [],
  };
}

/** The file's tab (by id, or by label when no tab has that id), or why not. */
export function findTab(file: FlowNode[], ref: string): FlowNode | string {
  const tabs = file.filter(isTab);
  const byId = tabs.find((t) => t.id === ref);
  if (byId) return byId;
  const byLabel = tabs.filter((t) => t.label === ref);
  if (byLabel.length === 1) return byLabel[0];
  const list = tabs.map((t) => `${t.id} ${JSON.stringify(nodeName(t) ?? '')}`).join(', ');
  return byLabel.length > 1
    ? `several tabs are labelled ${JSON.stringify(ref)}; name one by id: ${list}`
    : `no tab ${JSON.stringify(ref)} in the file; its tabs: ${list || 'none'}`;
}

/** The file's tab, with what it uses, replaces or joins the server's flows. */
export function planTab(file: FlowNode[], tab: FlowNode, server: FlowNode[]): DeployPlan {
  const fileById = new Map(file.map((n) => [n.id, n]));
  const own = file.filter((n) => n.id === tab.id || n.z === tab.id);
  const used = tablessClosure(own, file, fileById);
  const usedIds = new Set(used.map((n) => n.id));

  // The server keeps everything but this tab and the subflows the tab brings
  // (inside and all); the tab-less nodes the tab uses take the place of the
  // server's nodes of the same id.
  const replacedSubflows = new Set(
    server.filter((n) => isSubflow(n) && usedIds.has(n.id)).map((n) => n.id),
  );
  const kept = server.filter(
    (n) => n.id !== tab.id && n.z !== tab.id && !replacedSubflows.has(n.z ?? ''),
  );
  const keptById = new Map(kept.map((n) => [n.id, n]));
  const problems: FlowProblem[] = [];
  const serverTab = server.find((n) => n.id === tab.id);
  if (serverTab && !isTab(serverTab)) problems.push(idInUse(tab, serverTab, server));
  for (const node of own) {
    const other = keptById.get(node.id);
    if (other) problems.push(idInUse(node, other, server));
  }
  for (const node of used) {
    const other = keptById.get(node.id);
    if (other && !(isTabless(node) && isTabless(other) && other.type === node.type))
      problems.push(idInUse(node, other, server));
  }
  const flows = [...kept.filter((n) => !usedIds.has(n.id)), ...own, ...used];
  const usedTabless = used.filter(isTabless);
  return {
    flows: orderLikeServer(flows, server),
    tabs: [tabChange(tab, file, serverTab ? 'replaced' : 'added')],
    globals: {
      added: usedTabless.filter((n) => !keptById.has(n.id)).length,
      changed: usedTabless.filter((n) => changedOn(keptById, n)).length,
      removed: 0,
    },
    credentials: [...own, ...used].filter(hasCredentials),
    problems,
  };
}

/** Config nodes and subflows (with their insides) the given nodes use,
 *  followed through each other: a config node may name another (tls-config). */
function tablessClosure(
  start: FlowNode[],
  file: FlowNode[],
  fileById: Map<string, FlowNode>,
): FlowNode[] {
  const found = new Map<string, FlowNode>();
  const queue = [...start];
  for (let node = queue.shift(); node; node = queue.shift()) {
    for (const id of referencedIds(node)) {
      const target = fileById.get(id);
      if (!target || found.has(id) || !isTabless(target)) continue;
      found.set(id, target);
      queue.push(target);
      if (isSubflow(target)) {
        const inside = file.filter((n) => n.z === target.id);
        for (const n of inside) found.set(n.id, n);
        queue.push(...inside);
      }
    }
  }
  return [...found.values()];
}

/** Ids a node may name: every string (or string in an array) among its
 *  properties, and the subflow of an instance. Credentials are not looked at. */
function referencedIds(node: FlowNode): string[] {
  const ids: string[] = [];
  if (node.type.startsWith(SUBFLOW_INSTANCE)) ids.push(node.type.slice(SUBFLOW_INSTANCE.length));
  for (const [key, value] of Object.entries(node)) {
    if (key === 'id' || key === 'credentials') continue;
    if (typeof value === 'string') ids.push(value);
    else if (Array.isArray(value)) ids.push(...value.filter((v) => typeof v === 'string'));
  }
  return ids;
}

/** Tab-less: config nodes and subflows (what tabs share). */
function isTabless(node: FlowNode): boolean {
  return isGlobal(node) || isSubflow(node);
}

/** On the server under the same id with other content (the server never
 *  shows credentials, so they are left out of the comparison). */
function changedOn(server: Map<string, FlowNode>, node: FlowNode): boolean {
  const other = server.get(node.id);
  return (
    other !== undefined && !isDeepStrictEqual(withoutCredentials(node), withoutCredentials(other))
  );
}

function withoutCredentials(node: FlowNode): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...node };
  delete copy.credentials;
  return copy;
}

function hasCredentials(node: FlowNode): boolean {
  return isObject(node.credentials) && Object.keys(node.credentials).length > 0;
}

function tabChange(tab: FlowNode, nodes: FlowNode[], change: TabChange['change']): TabChange {
  const label = nodeName(tab);
  const count = nodes.filter((n) => n.z === tab.id).length;
  return label === undefined
    ? { id: tab.id, change, nodes: count }
    : { id: tab.id, label, change, nodes: count };
}

function idInUse(node: FlowNode, other: FlowNode, server: FlowNode[]): FlowProblem {
  const tab = server.find((t) => t.id === other.z);
  const where = tab ? ` on tab ${printable(tab.id)}${label(tab)}` : '';
  return {
    code: 'id-in-use',
    node: nodeRef(node),
    message: `id already used on the server by ${printable(other.type)}${label(other)}${where}`,
  };
}

function label(node: FlowNode): string {
  const name = nodeName(node);
  return name === undefined ? '' : ` ${JSON.stringify(name)}`;
}

/** Keeps the server's order for the nodes it had (the editor shows tabs in
 *  that order); new nodes go at the end. */
function orderLikeServer(flows: FlowNode[], server: FlowNode[]): FlowNode[] {
  const position = new Map(server.map((n, i) => [n.id, i]));
  const at = (n: FlowNode) => position.get(n.id) ?? Number.MAX_SAFE_INTEGER;
  return flows
    .map((node, index) => ({ node, index }))
    .sort((a, b) => at(a.node) - at(b.node) || a.index - b.index)
    .map((entry) => entry.node);
}
