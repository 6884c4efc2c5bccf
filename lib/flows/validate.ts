// Checks a flow file before it reaches a runtime: every node type known,
// config nodes present and of the right type, wires and links to nodes of the
// file, nodes on tabs, subflows and groups that exist, ids unique. Node-RED
// itself would start such a flow half-way ("waiting for missing types") or
// drop messages on a dangling wire without a word.
import type { NodeCatalog } from './catalog';
import { configRefs, LINK_TYPES } from './config-refs';
import {
  FlowNode,
  FlowProblem,
  isObject,
  isSubflow,
  isTab,
  nodeRef,
  printable,
  readFlow,
  STRUCTURAL_TYPES,
  SUBFLOW_INSTANCE,
} from './flow-file';

export interface Validation {
  nodes: FlowNode[];
  problems: FlowProblem[];
}

/** Reads and checks a flow file's text. */
export function validateFlowText(text: string, catalog: NodeCatalog): Validation {
  const read = readFlow(text);
  return { nodes: read.nodes, problems: [...read.problems, ...validateNodes(read.nodes, catalog)] };
}

/** Checks nodes that are well formed (see readFlow). */
export function validateNodes(nodes: FlowNode[], catalog: NodeCatalog): FlowProblem[] {
  const byId = new Map<string, FlowNode>();
  const problems: FlowProblem[] = [];
  for (const node of nodes) {
    const first = byId.get(node.id);
    if (first) {
      problems.push(problem(node, 'duplicate-id', `id also used by ${describeNode(first)}`));
    } else byId.set(node.id, node);
  }
  const context: Context = { byId, catalog, problems };
  for (const node of nodes) {
    checkType(node, context);
    checkPlacement(node, context);
    checkConfigRefs(node, context);
    checkWires(node, context);
    checkLinks(node, context);
    checkSubflowPorts(node, context);
    if (node.credentials !== undefined && !isObject(node.credentials))
      problems.push(problem(node, 'bad-node', 'credentials is not an object'));
  }
  return problems;
}

interface Context {
  byId: Map<string, FlowNode>;
  catalog: NodeCatalog;
  problems: FlowProblem[];
}

function checkType(node: FlowNode, { byId, catalog, problems }: Context): void {
  if (STRUCTURAL_TYPES.has(node.type)) return;
  if (node.type.startsWith(SUBFLOW_INSTANCE)) {
    const subflowId = node.type.slice(SUBFLOW_INSTANCE.length);
    const subflow = byId.get(subflowId);
    if (!subflow || !isSubflow(subflow))
      problems.push(
        problem(
          node,
          'unknown-type',
          `instance of subflow ${printable(subflowId)}, which is not in the file`,
        ),
      );
    return;
  }
  if (!catalog.has(node.type))
    problems.push(problem(node, 'unknown-type', `unknown node type (not in ${catalog.source})`));
}

/** `z` names the tab or subflow a node is on, `g` its group. */
function checkPlacement(node: FlowNode, { byId, problems }: Context): void {
  if (node.z !== undefined && node.z !== '') {
    const home = typeof node.z === 'string' ? byId.get(node.z) : undefined;
    if (typeof node.z !== 'string') problems.push(problem(node, 'bad-node', 'z is not a string'));
    else if (isTab(node) || isSubflow(node))
      problems.push(problem(node, 'bad-node', `a ${node.type} cannot sit on another one (z)`));
    else if (!home)
      problems.push(
        problem(node, 'missing-tab', `on tab ${printable(node.z)}, which is not in the file`),
      );
    else if (!isTab(home) && !isSubflow(home))
      problems.push(
        problem(node, 'missing-tab', `on ${describeNode(home)}, which is not a tab or subflow`),
      );
  }
  if (node.g !== undefined && node.g !== '') {
    const group = typeof node.g === 'string' ? byId.get(node.g) : undefined;
    if (!group || group.type !== 'group')
      problems.push(
        problem(
          node,
          'missing-group',
          `in group ${printable(String(node.g))}, which is not a group in the file`,
        ),
      );
    else if (group.z !== node.z)
      problems.push(
        problem(node, 'missing-group', `in ${describeNode(group)}, which is on another tab`),
      );
  }
}

function checkConfigRefs(node: FlowNode, { byId, problems }: Context): void {
  for (const ref of configRefs(node.type)) {
    const value = node[ref.property];
    if (value === undefined || value === null || value === '') {
      if (ref.required)
        problems.push(
          problem(node, 'missing-config', `no ${ref.type} config node set in ${ref.property}`),
        );
      continue;
    }
    if (typeof value !== 'string') {
      problems.push(problem(node, 'missing-config', `${ref.property} is not a config node id`));
      continue;
    }
    const target = byId.get(value);
    if (!target)
      problems.push(
        problem(
          node,
          'missing-config',
          `${ref.property} names ${ref.type} config node ${printable(value)}, which is not in the file`,
        ),
      );
    else if (target.type !== ref.type)
      problems.push(
        problem(
          node,
          'wrong-config-type',
          `${ref.property} names ${describeNode(target)}, not a ${ref.type} config node`,
        ),
      );
  }
}

/** `wires`: one array of target ids per output, each target on the same tab. */
function checkWires(node: FlowNode, { byId, problems }: Context): void {
  if (node.wires === undefined) return;
  if (!Array.isArray(node.wires) || !node.wires.every(isIdList)) {
    problems.push(problem(node, 'bad-node', 'wires is not a list of id lists, one per output'));
    return;
  }
  (node.wires as string[][]).forEach((targets, output) => {
    for (const id of targets) {
      const target = byId.get(id);
      const where = `output ${output + 1} is wired to ${printable(id)}`;
      if (!target)
        problems.push(problem(node, 'dangling-wire', `${where}, which is not in the file`));
      else if ((target.z ?? '') !== (node.z ?? '') || isTab(target) || isSubflow(target))
        problems.push(
          problem(node, 'dangling-wire', `${where} (${target.type}), which is not on the same tab`),
        );
    }
  });
}

/** Link nodes join tabs through `links`, which must name link nodes of the file. */
function checkLinks(node: FlowNode, { byId, problems }: Context): void {
  const accepted = Object.hasOwn(LINK_TYPES, node.type) ? LINK_TYPES[node.type] : undefined;
  if (!accepted || node.links === undefined) return;
  if (!isIdList(node.links)) {
    problems.push(problem(node, 'bad-node', 'links is not a list of node ids'));
    return;
  }
  for (const id of node.links) {
    const target = byId.get(id);
    if (!target)
      problems.push(
        problem(node, 'dangling-wire', `linked to ${printable(id)}, which is not in the file`),
      );
    else if (!accepted.includes(target.type))
      problems.push(
        problem(
          node,
          'dangling-wire',
          `linked to ${describeNode(target)}, not a ${accepted.join(' or ')}`,
        ),
      );
  }
}

/** A subflow's input and output ports wire to nodes inside it (an output may
 *  also take the subflow's own input, its id). */
function checkSubflowPorts(node: FlowNode, { byId, problems }: Context): void {
  if (!isSubflow(node)) return;
  for (const [ports, name] of [
    [node.in, 'input'],
    [node.out, 'output'],
  ] as const) {
    if (ports === undefined) continue;
    if (!Array.isArray(ports)) {
      problems.push(problem(node, 'bad-node', `${name} ports are not a list`));
      continue;
    }
    ports.forEach((port: unknown, index) => {
      const wires = isObject(port) && Array.isArray(port.wires) ? port.wires : [];
      for (const wire of wires) {
        const id = isObject(wire) && typeof wire.id === 'string' ? wire.id : undefined;
        const target = id === undefined ? undefined : byId.get(id);
        if (id === node.id) continue;
        if (!target || target.z !== node.id)
          problems.push(
            problem(
              node,
              'dangling-wire',
              `${name} ${index + 1} is wired to ${printable(id ?? '(no id)')}, which is not in the subflow`,
            ),
          );
      }
    });
  }
}

function isIdList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((id) => typeof id === 'string');
}

function describeNode(node: FlowNode): string {
  const ref = nodeRef(node)!;
  return `${ref.type} ${printable(ref.id)}${ref.name === undefined ? '' : ` ${JSON.stringify(ref.name)}`}`;
}

function problem(node: FlowNode, code: FlowProblem['code'], message: string): FlowProblem {
  return { code, message, node: nodeRef(node) };
}
