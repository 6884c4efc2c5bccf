// A flow file as Node-RED exports it: a JSON array of node objects, each with
// an `id` and a `type`. Reading one sorts what is a node from what is not, so
// the checks that follow work on well-formed nodes only.

/** One node of a flow file. Everything but `id` and `type` is optional. */
export interface FlowNode {
  id: string;
  type: string;
  /** The tab or subflow the node is on; absent on tabs and global config nodes. */
  z?: string;
  /** The group the node is in. */
  g?: string;
  name?: unknown;
  label?: unknown;
  wires?: unknown;
  credentials?: unknown;
  [property: string]: unknown;
}

/** A problem found in a flow file, naming the node it is about when there is one. */
export interface FlowProblem {
  code: ProblemCode;
  message: string;
  node?: { id: string; type: string; name?: string };
}

export type ProblemCode =
  | 'not-a-flow'
  | 'bad-node'
  | 'duplicate-id'
  | 'unknown-type'
  | 'missing-config'
  | 'wrong-config-type'
  | 'dangling-wire'
  | 'missing-tab'
  | 'missing-group'
  | 'id-in-use';

export interface ReadFlow {
  /** The elements that are nodes (an object with a string id and type). */
  nodes: FlowNode[];
  /** What kept the text from being a flow, or kept elements from being nodes. */
  problems: FlowProblem[];
}

/** Types that structure a flow rather than run in it: no node set registers them. */
export const STRUCTURAL_TYPES: ReadonlySet<string> = new Set(['tab', 'subflow', 'group']);

export const SUBFLOW_INSTANCE = 'subflow:';

/** Parses a flow file's text: a JSON array of nodes, or the `{flows: [...]}`
 *  object of Node-RED's v2 admin API. */
export function readFlow(text: string): ReadFlow {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return notAFlow(`not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const elements = Array.isArray(parsed)
    ? parsed
    : isObject(parsed) && Array.isArray(parsed.flows)
      ? parsed.flows
      : undefined;
  if (!elements) {
    return notAFlow(`a flow is a JSON array of nodes; this file holds ${describe(parsed)}`);
  }
  // An empty flow is JSON but deploys as "delete everything": never what is meant.
  if (elements.length === 0) return notAFlow('the flow holds no nodes');

  const nodes: FlowNode[] = [];
  const problems: FlowProblem[] = [];
  elements.forEach((element: unknown, index) => {
    const fault = nodeFault(element);
    if (fault) problems.push({ code: 'bad-node', message: `element ${index + 1}: ${fault}` });
    else nodes.push(element as FlowNode);
  });
  return { nodes, problems };
}

function nodeFault(element: unknown): string | undefined {
  if (!isObject(element)) return `${describe(element)}, not a node object`;
  if (typeof element.id !== 'string' || element.id === '') return 'a node without an id';
  if (typeof element.type !== 'string' || element.type === '')
    return `node ${printable(element.id)} has no type`;
  return undefined;
}

function notAFlow(message: string): ReadFlow {
  return { nodes: [], problems: [{ code: 'not-a-flow', message }] };
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (isObject(value)) return 'an object';
  return `a ${typeof value}`;
}

/** The node's name as the editor shows it: `label` for tabs, else `name`. */
export function nodeName(node: FlowNode): string | undefined {
  const name = node.type === 'tab' ? node.label : node.name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/** The node as problems name it: id, type and name. */
export function nodeRef(node: FlowNode): FlowProblem['node'] {
  const name = nodeName(node);
  return name === undefined
    ? { id: node.id, type: node.type }
    : { id: node.id, type: node.type, name };
}

/** Strings from a file shown on one line: control characters escaped. */
export function printable(text: string): string {
  return /[\u0000-\u001f\u007f]/.test(text) ? JSON.stringify(text).slice(1, -1) : text;
}

/** One line per problem: `node <id> (<type> "<name>"): <message>`. */
export function formatProblem(problem: FlowProblem): string {
  const node = problem.node;
  if (!node) return problem.message;
  const name = node.name === undefined ? '' : ` ${JSON.stringify(node.name)}`;
  return `node ${printable(node.id)} (${printable(node.type)}${name}): ${problem.message}`;
}

export function isTab(node: FlowNode): boolean {
  return node.type === 'tab';
}

export function isSubflow(node: FlowNode): boolean {
  return node.type === 'subflow';
}

/** Nodes that sit on no tab: global config nodes (tabs and subflows excluded). */
export function isGlobal(node: FlowNode): boolean {
  return !isTab(node) && !isSubflow(node) && (node.z === undefined || node.z === '');
}
