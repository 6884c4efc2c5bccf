// The list of config node references (lib/flows/config-refs.ts) against the
// editor files of the installed node sets: every `defaults` property typed
// with a config node type is listed, with the same required flag, and every
// listed one exists. A node that gains or loses a config node fails here.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { configRefs, typesWithConfigRefs } from '../../../lib/flows/config-refs';
import { installedNodeSets } from '../../../lib/flows/installed-types';

const ROOT = path.join(__dirname, '..', '..', '..');

interface Declared {
  nodeType: string;
  property: string;
  type: string;
  required: boolean;
}

/** The text between the brace at `open` and its match. */
function braced(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

/** Top-level `name: { … }` entries of an object body. */
function entries(body: string): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  let depth = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') depth--;
    else if (depth === 0) {
      const m = /^([A-Za-z_$][\w$]*)\s*:\s*\{/.exec(body.slice(i));
      if (m && (i === 0 || /[\s,{]/.test(body[i - 1]))) {
        const open = i + m[0].length - 1;
        const inner = braced(body, open);
        found.push([m[1], inner]);
        i = open + inner.length + 1;
      }
    }
  }
  return found;
}

/** Properties at the top of an entry: `type: '…'` but not inside a
 *  validator call. Brackets inside strings (`'link out[]'`) are text. */
function topLevel(inner: string): string {
  let depth = 0;
  let quote = '';
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (quote) {
      if (depth === 0) out += c;
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === "'" || c === '"') {
      quote = c;
      if (depth === 0) out += c;
    } else if ('{(['.includes(c)) depth++;
    else if ('})]'.includes(c)) depth--;
    else if (depth === 0) out += c;
  }
  return out;
}

/** What an editor file declares: config types, and config references. */
function declared(html: string): { configTypes: string[]; refs: Declared[] } {
  const configTypes: string[] = [];
  const refs: Declared[] = [];
  const starts = [...html.matchAll(/registerType\(\s*['"]([^'"]+)['"]\s*,\s*\{/g)];
  for (const start of starts) {
    const body = braced(html, start.index + start[0].length - 1);
    const props = topLevel(body);
    if (/category\s*:\s*['"]config['"]/.test(props)) configTypes.push(start[1]);
    const defaults = /(^|[\s,{])defaults\s*:\s*\{/.exec(body);
    if (!defaults) continue;
    for (const [property, inner] of entries(
      braced(body, defaults.index + defaults[0].length - 1),
    )) {
      const top = topLevel(inner);
      const type = /\btype\s*:\s*['"]([^'"]+)['"]/.exec(top)?.[1];
      if (!type) continue;
      refs.push({
        nodeType: start[1],
        property,
        type,
        required: /\brequired\s*:\s*true\b/.test(top),
      });
    }
  }
  return { configTypes, refs };
}

describe('config node references', () => {
  const htmlFiles = installedNodeSets(ROOT).map((set) => set.file.replace(/\.c?js$/, '.html'));
  const all = htmlFiles.map((file) => declared(fs.readFileSync(file, 'utf8')));
  const configTypes = new Set(all.flatMap((d) => d.configTypes));
  // Declared references to config types; `link out[]` names link nodes, not config.
  const refs = all.flatMap((d) => d.refs).filter((r) => !r.type.endsWith('[]'));

  it('reads the editor files of every installed node set', () => {
    assert.ok(htmlFiles.length > 60, `${htmlFiles.length} editor files`);
    for (const type of ['mqtt-broker', 'tls-config', 'ui-base', 'ui-group', 'sensflow-registry'])
      assert.ok(configTypes.has(type), `${type} is a config type`);
  });

  it('lists every reference the editor files declare, with their required flag', () => {
    const missing = refs
      .filter((r) => configTypes.has(r.type) || !r.type.match(/^(text|password)$/))
      .filter((r) => {
        const listed = configRefs(r.nodeType).find((c) => c.property === r.property);
        return !listed || listed.type !== r.type || listed.required !== r.required;
      });
    assert.deepEqual(missing, []);
  });

  it('lists no reference the editor files do not declare', () => {
    const stale = typesWithConfigRefs()
      .flatMap((nodeType) => configRefs(nodeType).map((ref) => ({ nodeType, ...ref })))
      .filter(
        (ref) => !refs.some((r) => r.nodeType === ref.nodeType && r.property === ref.property),
      );
    assert.deepEqual(stale, []);
  });
});
