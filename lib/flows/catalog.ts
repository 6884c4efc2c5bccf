// The node types a flow may name: those of Sensflow's installed packages, or
// those a running server reports (`GET /nodes`). Validation only asks `has`.

export interface NodeCatalog {
  /** What the types were taken from, for reports ("the server at …"). */
  readonly source: string;
  has(type: string): boolean;
}

/** A node set as Node-RED's `GET /nodes` lists it (the fields used here). */
export interface NodeSetInfo {
  module: string;
  name: string;
  types: string[];
  enabled?: boolean;
  err?: unknown;
}

export function catalogOf(types: Iterable<string>, source: string): NodeCatalog {
  const known = new Set(types);
  return { source, has: (type) => known.has(type) };
}

/** The types of a server's node sets that can run: a set that is disabled or
 *  failed to load registers nothing a flow could use. */
export function catalogFromNodeSets(sets: NodeSetInfo[], source: string): NodeCatalog {
  const usable = sets.filter((set) => set.enabled !== false && !set.err);
  return catalogOf(
    usable.flatMap((set) => set.types),
    source,
  );
}
