// Checks and normal forms for what the registry accepts. Each failure names
// the field, so an API can answer with a path and a user can fix the input.
import Ajv, { ValidateFunction } from 'ajv';
import { invalid } from './errors';
import type { UidType } from './directory';

export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
const TYPE_PATTERN = /^[a-z0-9_]{1,64}$/;
const LEVEL_PATTERN = /^[A-Za-z0-9_.-]+$/;
export const MAX_CONFIG_BYTES = 64 * 1024;
export const MAX_STATUS_BYTES = 16 * 1024;
/** Status topics are subscribed per depth (`+/…/device`, topics.md), so the depth is bounded. */
export const MAX_LOCATION_LEVELS = 16;

export function checkId(path: string, value: unknown): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw invalid(path, 'must be 1-64 characters of A-Z a-z 0-9 _ . : -');
  }
  return value;
}

export function checkTypeName(value: unknown): string {
  if (typeof value !== 'string' || !TYPE_PATTERN.test(value)) {
    throw invalid('type', 'must be 1-64 characters of a-z 0-9 _');
  }
  return value;
}

export function checkText(path: string, value: unknown, max: number, required = false): string {
  if (value === undefined || value === null) {
    if (required) throw invalid(path, 'is required');
    return '';
  }
  if (typeof value !== 'string') throw invalid(path, 'must be a string');
  if (required && value.trim() === '') throw invalid(path, 'must not be empty');
  if (value.length > max) throw invalid(path, `must be at most ${max} characters`);
  return value;
}

/** A device's base topic (topics.md): `<building>/<room>[/…]`, `outside[/…]`,
 *  or `abroad/<site>/…`; never a wildcard, an empty level, or a reserved suffix. */
export function checkLocation(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 255) {
    throw invalid('location', 'must be a topic of 1-255 characters, e.g. u4/300');
  }
  const levels = value.split('/');
  if (levels.length > MAX_LOCATION_LEVELS)
    throw invalid('location', `must have at most ${MAX_LOCATION_LEVELS} levels`);
  if (levels.some((l) => l === ''))
    throw invalid('location', 'has an empty level (leading, trailing or double /)');
  if (levels.some((l) => l.includes('+') || l.includes('#')))
    throw invalid('location', 'must not contain wildcards + or #');
  if (!levels.every((l) => LEVEL_PATTERN.test(l))) {
    throw invalid('location', 'levels may hold only A-Z a-z 0-9 _ . -');
  }
  if (levels[0] === 'abroad' && levels.length < 3) {
    throw invalid(
      'location',
      'abroad/<site>/… needs a site and a place, e.g. abroad/carcassonne/b1/12',
    );
  }
  if (levels[0] !== 'outside' && levels[0] !== 'abroad' && levels.length < 2) {
    throw invalid('location', 'must be <building>/<room>…, outside/… or abroad/<site>/…');
  }
  const last = levels[levels.length - 1];
  if (last === 'command' || last === 'device')
    throw invalid('location', `must not end with "${last}" (reserved)`);
  return value;
}

export function checkUidType(value: unknown): UidType {
  if (value === undefined || value === null || value === '') return 'other';
  if (value === 'ethernet' || value === 'lorawan' || value === 'other') return value;
  throw invalid('uidType', 'must be ethernet, lorawan or other');
}

/** The normal form of a device uid: MAC as aa:bb:cc:dd:ee:ff, EUI as 16 lower-case hex. */
export function normalizeUid(uidType: UidType, value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw invalid('uid', 'must be a string');
  const hex = value.replace(/[:\-.\s]/g, '').toLowerCase();
  if (uidType === 'ethernet') {
    if (!/^[0-9a-f]{12}$/.test(hex))
      throw invalid('uid', 'must be a MAC address, e.g. b8:27:eb:12:34:56');
    return hex.match(/../g)!.join(':');
  }
  if (uidType === 'lorawan') {
    if (!/^[0-9a-f]{16}$/.test(hex)) throw invalid('uid', 'must be a LoRaWAN EUI of 16 hex digits');
    return hex;
  }
  if (!/^[\x21-\x7e]{1,64}$/.test(value)) throw invalid('uid', 'must be 1-64 printable characters');
  return value;
}

export function checkSerial(value: unknown): string {
  if (typeof value !== 'string' || !/^[\x21-\x7b\x7d\x7e]{8,128}$/.test(value)) {
    throw invalid('serial', 'must be 8-128 printable characters without spaces or |');
  }
  return value;
}

/** A JSON object no larger than `max` bytes once serialised. */
export function checkJsonObject(path: string, value: unknown, max = MAX_CONFIG_BYTES): string {
  if (value === undefined || value === null) return '{}';
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid(path, 'must be a JSON object');
  const text = JSON.stringify(value);
  if (Buffer.byteLength(text) > max) throw invalid(path, `must be at most ${max} bytes of JSON`);
  return text;
}

const ajv = new Ajv({ allErrors: false, strict: false });
const compiled = new Map<string, ValidateFunction>();

/** Compiles a device type's JSON Schema, with a clear error when it is not one. */
export function compileSchema(schemaText: string): ValidateFunction {
  const cached = compiled.get(schemaText);
  if (cached) return cached;
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(JSON.parse(schemaText) as object);
  } catch (err) {
    throw invalid('configSchema', `is not a valid JSON Schema: ${(err as Error).message}`);
  }
  if (compiled.size > 500) compiled.clear();
  compiled.set(schemaText, validate);
  return validate;
}

/** Validates a device configuration against its type's schema; the error names the path. */
export function checkConfigAgainst(schemaText: string | null, config: unknown): void {
  if (!schemaText) return;
  const validate = compileSchema(schemaText);
  if (!validate(config)) {
    const e = validate.errors?.[0];
    throw invalid(
      `config${e?.instancePath ?? ''}`,
      e?.message ?? 'does not match the device type schema',
    );
  }
}

/** An outdated threshold in milliseconds, or null for "use the default". */
export function checkThreshold(path: string, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 1000 ||
    value > 365 * 24 * 3600_000
  ) {
    throw invalid(path, 'must be a whole number of milliseconds from 1000 to one year');
  }
  return value;
}
