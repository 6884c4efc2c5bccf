// The node types Sensflow has, read from its installed packages without
// starting Node-RED: core's node files (found as Node-RED finds them), the
// node sets of the dependencies that are Node-RED modules (Dashboard 2.0), and
// Sensflow's own. A node file names its types in `RED.nodes.registerType('…'`
// calls; a file that names none that way cannot be read without running it,
// and then the catalog says so rather than guess.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { catalogOf, NodeCatalog, NodeSetInfo } from './catalog';

interface PackageJson {
  name: string;
  version?: string;
  dependencies?: Record<string, string>;
  'node-red'?: { nodes?: Record<string, string> };
}

export class UnreadableNodeSetError extends Error {
  constructor(set: { module: string; name: string }, file: string) {
    super(
      `cannot tell the node types of ${set.module} "${set.name}" (${file}) without running it; ` +
        'check against a running server with --url',
    );
    this.name = 'UnreadableNodeSetError';
  }
}

/** A node set found on disk: where its node file is. */
export interface InstalledNodeSet extends NodeSetInfo {
  file: string;
}

const REGISTER_TYPE = /\bregisterType\s*(?:<[^()]*>)?\(\s*(['"`])([^'"`\n]+)\1/g;

/** The types a node file registers, from its literal `registerType` calls. */
export function typesInNodeFile(source: string): string[] {
  return [...new Set([...source.matchAll(REGISTER_TYPE)].map((m) => m[2]))];
}

/** Sensflow's node sets as the runtime would load them, with their types. */
export function installedNodeSets(packageFolder: string): InstalledNodeSet[] {
  const root = path.resolve(packageFolder);
  const rootPackage = readPackage(root);
  const requireFromRoot = createRequire(path.join(root, 'package.json'));
  const sets: InstalledNodeSet[] = coreNodeSets(requireFromRoot);
  for (const dependency of Object.keys(rootPackage.dependencies ?? {})) {
    const dir = packageDir(requireFromRoot, dependency);
    if (dir) sets.push(...moduleNodeSets(dir));
  }
  sets.push(...moduleNodeSets(root));
  return sets;
}

/** The catalog of Sensflow's installed node types. */
export function installedCatalog(root: string): NodeCatalog {
  const sets = installedNodeSets(root);
  const modules = [...new Set(sets.map((s) => s.module))];
  return catalogOf(
    sets.flatMap((s) => s.types),
    `Sensflow's installed nodes (${modules.join(', ')})`,
  );
}

function coreNodeSets(requireFromRoot: NodeJS.Require): InstalledNodeSet[] {
  // Node-RED takes its core nodes from the folder of @node-red/nodes, resolved
  // from node-red itself; the same is done here.
  const nodeRed = packageDir(requireFromRoot, 'node-red');
  if (!nodeRed) return [];
  const requireFromRed = createRequire(path.join(nodeRed, 'package.json'));
  const coreDir = path.dirname(requireFromRed.resolve('@node-red/nodes'));
  return coreNodeFiles(coreDir).map((file) =>
    nodeSet({ module: 'node-red', name: path.basename(file).replace(/^\d+-|\.c?js$/g, '') }, file),
  );
}

/** A core node file is a .js with an .html beside it, outside lib/, test/
 *  and the other folders Node-RED skips. */
function coreNodeFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort(byName)) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!/^(\..*|lib|icons|node_modules|test|locales)$/.test(entry.name))
        files.push(...coreNodeFiles(file));
    } else if (/\.c?js$/.test(entry.name) && fs.existsSync(file.replace(/\.c?js$/, '.html'))) {
      files.push(file);
    }
  }
  return files;
}

function moduleNodeSets(dir: string): InstalledNodeSet[] {
  const pkg = readPackage(dir);
  return Object.entries(pkg['node-red']?.nodes ?? {}).map(([name, file]) =>
    nodeSet({ module: pkg.name, name }, path.join(dir, file)),
  );
}

function nodeSet(set: { module: string; name: string }, file: string): InstalledNodeSet {
  let source: string;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch {
    // The runtime could not load it either: the set registers nothing.
    return { ...set, file, types: [], enabled: false, err: `cannot read ${file}` };
  }
  const types = typesInNodeFile(source);
  if (types.length === 0) throw new UnreadableNodeSetError(set, file);
  return { ...set, file, types, enabled: true };
}

/** Where a package is installed, looked up along node's module paths (not
 *  through `exports`, which may not expose package.json). */
function packageDir(requireFrom: NodeJS.Require, name: string): string | undefined {
  return (requireFrom.resolve.paths(name) ?? [])
    .map((modules) => path.join(modules, name))
    .find((dir) => fs.existsSync(path.join(dir, 'package.json')));
}

function readPackage(dir: string): PackageJson {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
}

function byName(a: fs.Dirent, b: fs.Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
