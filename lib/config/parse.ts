// Parsers for settings taken from the environment. Each failure names the
// setting, so a bad value stops the start with one clear line, not a stack trace.

export class SettingError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`invalid setting ${setting}: ${message}`);
    this.name = 'SettingError';
  }
}

export type Env = Record<string, string | undefined>;

/** The value of `name` in `env`, or undefined when unset or blank. */
export function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** A TCP port; 0 lets the system choose one (useful for tests). */
export function port(env: Env, name: string, fallback: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) {
    throw new SettingError(name, `"${raw}" is not a port number (0-65535)`);
  }
  return Number(raw);
}

export function integer(
  env: Env,
  name: string,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw) || value < min || value > max) {
    throw new SettingError(name, `"${raw}" is not a whole number from ${min} to ${max}`);
  }
  return value;
}

export function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const lower = raw.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
  if (['0', 'false', 'no', 'off'].includes(lower)) return false;
  throw new SettingError(name, `"${raw}" is not a boolean (true/false, on/off, 1/0)`);
}

export function oneOf<T extends string>(
  env: Env,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new SettingError(name, `"${raw}" is not one of ${allowed.join(', ')}`);
  }
  return raw as T;
}

/** A URL whose scheme is one of `protocols` (without the colon), with a host. */
export function url(env: Env, name: string, protocols: readonly string[]): URL | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new SettingError(name, `"${redactUrl(raw)}" is not a URL`);
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  if (!protocols.includes(scheme)) {
    throw new SettingError(name, `scheme "${scheme}" is not one of ${protocols.join(', ')}`);
  }
  if (parsed.hostname === '') throw new SettingError(name, 'the URL names no host');
  return parsed;
}

/** A URL as it may be shown in logs and errors: the password replaced by `***`. */
export function redactUrl(raw: string | URL): string {
  try {
    const copy = new URL(raw.toString());
    if (copy.password) copy.password = '***';
    return copy.toString();
  } catch {
    // Not parseable: show only the scheme-ish prefix, never a possible secret.
    return String(raw).replace(/\/\/[^@/]*@/, '//***@');
  }
}
