// Node properties that may name an environment variable (`${SENSFLOW_…}`):
// Node-RED leaves such a value as it is when the variable is unset (in a
// stock Node-RED), so that counts as "not set" and the node's default applies.

/** The property's value, or `fallback` when blank or an unset `${VAR}`. */
export function property(value: unknown, fallback: string): string {
  const text = value === undefined || value === null ? '' : String(value).trim();
  return text === '' || /^\$\{[^}]*\}$/.test(text) ? fallback : text;
}

/** A port from a property; `what` names it in the error. */
export function portProperty(value: unknown, fallback: number, what: string): number {
  const text = property(value, String(fallback));
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new Error(`${what}: "${text}" is not a port number (0-65535)`);
  }
  return Number(text);
}

/** A whole number from a property, at least `min`. */
export function countProperty(value: unknown, fallback: number, min: number, what: string): number {
  const text = property(value, String(fallback));
  if (!/^\d+$/.test(text) || Number(text) < min) {
    throw new Error(`${what}: "${text}" is not a whole number of at least ${min}`);
  }
  return Number(text);
}

/** A folder name for files a node keeps, from its id. */
export function nodeFolder(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}
