// Registry errors carry what an API needs to answer well: a kind (mapped to
// an HTTP status) and, for bad input, the path of the offending field.

export type RegistryErrorKind = 'invalid' | 'not_found' | 'conflict' | 'forbidden' | 'unavailable';

export class RegistryError extends Error {
  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
    /** The field at fault, e.g. `location` or `config/interval`. */
    readonly path?: string,
  ) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'RegistryError';
  }
}

export const invalid = (path: string, message: string) =>
  new RegistryError('invalid', message, path);
export const notFound = (message: string) => new RegistryError('not_found', message);
export const conflict = (path: string, message: string) =>
  new RegistryError('conflict', message, path);

/** True for a unique-key violation on MySQL/MariaDB or SQLite. */
export function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: string; errno?: number; message?: string };
  return (
    e?.errno === 1062 ||
    e?.code === 'ER_DUP_ENTRY' ||
    /UNIQUE constraint failed|SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)/.test(e?.message ?? '')
  );
}

/** True when the database could not be reached (the caller should answer 503). */
export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'PROTOCOL_CONNECTION_LOST',
      'EPIPE',
      'ENOTFOUND',
    ].includes(code) ||
    /connect ECONNREFUSED|Connection lost|Pool is closed|Can't add new command when connection is in closed state/.test(
      String((err as Error)?.message),
    )
  );
}
