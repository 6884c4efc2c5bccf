// Matching one topic against many filters, as a broker does: the filters are
// kept in a trie of levels, so a match walks the topic's levels once instead
// of testing every filter (a loop over regexes grows with the filter count,
// this grows with the topic's depth). Used by the topic-segment node and by
// broker access rules.
import { validateFilter } from './validate';

interface TrieNode<T> {
  children: Map<string, TrieNode<T>>;
  plus?: TrieNode<T>;
  /** Values of filters ending here with `#`: they match this level and below. */
  hash?: T[];
  /** Values of filters ending exactly here. */
  values?: T[];
}

function emptyNode<T>(): TrieNode<T> {
  return { children: new Map() };
}

export class TopicMatcher<T> {
  private readonly root: TrieNode<T> = emptyNode();
  private count = 0;

  /** Number of (filter, value) pairs held. */
  get size(): number {
    return this.count;
  }

  /** Adds `value` under `filter`; throws a TopicError for an invalid filter. */
  add(filter: string, value: T): this {
    validateFilter(filter);
    let node = this.root;
    const levels = filter.split('/');
    for (const level of levels) {
      if (level === '#') {
        (node.hash ??= []).push(value);
        this.count += 1;
        return this;
      }
      if (level === '+') {
        node = node.plus ??= emptyNode();
      } else {
        let next = node.children.get(level);
        if (!next) {
          next = emptyNode();
          node.children.set(level, next);
        }
        node = next;
      }
    }
    (node.values ??= []).push(value);
    this.count += 1;
    return this;
  }

  /** Removes one `value` from under `filter`; false when it was not there. */
  remove(filter: string, value: T): boolean {
    const levels = filter.split('/');
    const path: TrieNode<T>[] = [this.root];
    let node: TrieNode<T> | undefined = this.root;
    let list: T[] | undefined;
    for (const level of levels) {
      if (level === '#') {
        list = node.hash;
        break;
      }
      node = level === '+' ? node.plus : node.children.get(level);
      if (!node) return false;
      path.push(node);
    }
    if (levels[levels.length - 1] !== '#') list = node.values;
    const at = list ? list.indexOf(value) : -1;
    if (!list || at < 0) return false;
    list.splice(at, 1);
    this.count -= 1;
    this.prune(path, levels);
    return true;
  }

  /** The values of every filter that matches `topic` (a value once per filter). */
  match(topic: string): T[] {
    const found: T[] = [];
    const levels = topic.split('/');
    // Wildcards at the first level never match topics starting with $ (MQTT 4.7.2).
    const system = topic.startsWith('$');
    if (!system && this.root.hash) pushAll(found, this.root.hash);
    this.walk(this.root, levels, 0, found, system);
    return found;
  }

  /** True when at least one filter matches `topic`. */
  matches(topic: string): boolean {
    return this.match(topic).length > 0;
  }

  private walk(node: TrieNode<T>, levels: string[], i: number, found: T[], system: boolean) {
    if (i === levels.length) {
      if (node.values) pushAll(found, node.values);
      return;
    }
    const exact = node.children.get(levels[i]);
    if (exact) this.visit(exact, levels, i + 1, found);
    if (node.plus && !(system && i === 0)) this.visit(node.plus, levels, i + 1, found);
  }

  /** Entering a node after consuming level i-1: a `#` here matches the rest,
   *  including nothing (`a/#` matches `a`). */
  private visit(node: TrieNode<T>, levels: string[], i: number, found: T[]) {
    if (node.hash) pushAll(found, node.hash);
    this.walk(node, levels, i, found, false);
  }

  /** Drops the nodes left empty by a removal, deepest first. */
  private prune(path: TrieNode<T>[], levels: string[]) {
    for (let depth = path.length - 1; depth > 0; depth--) {
      const node = path[depth];
      const empty =
        node.children.size === 0 && !node.plus && !node.hash?.length && !node.values?.length;
      if (!empty) return;
      const parent = path[depth - 1];
      const level = levels[depth - 1];
      if (level === '+') parent.plus = undefined;
      else parent.children.delete(level);
    }
  }
}

function pushAll<T>(into: T[], from: T[]): void {
  for (let i = 0; i < from.length; i++) into.push(from[i]);
}

/** Whether one (valid) filter matches one topic, level by level: for a
 *  single check. Many filters belong in a TopicMatcher. */
export function filterMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
