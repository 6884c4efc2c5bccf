// Pure encoding and decoding of one EOT frame. Arity comes from the type, so
// only a type's last field may hold the separator; the encoder refuses exactly
// what the decoder could not give back unchanged, so encode ∘ decode is the
// identity on every frame it accepts.
import { isUtf8 } from 'node:buffer';
import {
  BROADCAST,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_SEPARATOR,
  EOT,
  ErrorCode,
  FIELDS,
  FORBIDDEN_SEPARATORS,
  ID_PATTERN,
  SERVER,
  TYPE_PATTERN,
} from './constants';

export interface Frame {
  origin: string;
  destination: string;
  type: string;
  /** The fields after the type. */
  fields: string[];
}

export interface CodecOptions {
  /** The separator byte (default `|`). */
  separator?: number;
  /** Maximum frame size, EOT included (default 4096). */
  maxFrameBytes?: number;
}

/** A frame that breaks the protocol, with the error code the peer gets. */
export class FrameError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FrameError';
  }
}

// With the u flag a proper pair is one code point: only a lone half matches.
const LONE_SURROGATE = /\p{Cs}/u;

const bad = (message: string) => new FrameError('BAD_FRAME', message);

/** The separator byte of a one-character setting, or an error naming the rule. */
export function separatorByte(value: string | number | undefined): number {
  if (value === undefined || value === '') return DEFAULT_SEPARATOR;
  const byte = typeof value === 'number' ? value : Buffer.from(value, 'utf8');
  if (typeof byte !== 'number' && byte.length !== 1)
    throw new Error(`the separator must be one byte, not "${String(value)}"`);
  const b = typeof byte === 'number' ? byte : byte[0];
  if (!Number.isInteger(b) || b < 0 || b > 255) throw new Error('the separator must be one byte');
  if (FORBIDDEN_SEPARATORS.includes(b))
    throw new Error('the separator may not be EOT, NUL, CR or LF');
  return b;
}

/** Decodes one frame body: the bytes before its EOT. */
export function decodeBody(body: Buffer, separator = DEFAULT_SEPARATOR): Frame {
  const parts: string[] = [];
  let start = 0;
  // origin, destination and type are never the last field: split them first.
  for (let i = 0; i < 2; i++) {
    const at = body.indexOf(separator, start);
    if (at === -1) throw bad('a frame needs origin, destination and type');
    parts.push(field(body, start, at));
    start = at + 1;
  }
  const typeEnd = body.indexOf(separator, start);
  const type = field(body, start, typeEnd === -1 ? body.length : typeEnd);
  const [origin, destination] = parts;
  if (!ID_PATTERN.test(origin)) throw bad('origin is not a device id');
  if (destination !== BROADCAST && !ID_PATTERN.test(destination))
    throw bad('destination is not a device id or *');
  if (!TYPE_PATTERN.test(type)) throw bad('type must be 1-16 of A-Z 0-9 _');

  const spec = FIELDS[type];
  const fields: string[] = [];
  if (typeEnd !== -1) {
    start = typeEnd + 1;
    // A known type splits at most (arity - 1) more times: the rest is its last field.
    const splits = spec ? spec.length - 1 : Infinity;
    if (spec && spec.length === 0) throw bad(`${type} has no fields`);
    for (let n = 0; n < splits; n++) {
      const at = body.indexOf(separator, start);
      if (at === -1) break;
      fields.push(field(body, start, at));
      start = at + 1;
    }
    fields.push(field(body, start, body.length));
  }
  if (spec) checkFields(type, spec, fields);
  return { origin, destination, type, fields };
}

/** Decodes one complete frame, EOT included. */
export function decode(bytes: Buffer, options: CodecOptions = {}): Frame {
  const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (bytes.length > max)
    throw new FrameError('FRAME_TOO_LARGE', `${bytes.length} bytes (limit ${max})`);
  if (bytes.length === 0 || bytes[bytes.length - 1] !== EOT) throw bad('a frame ends with EOT');
  const body = bytes.subarray(0, bytes.length - 1);
  if (body.includes(EOT)) throw bad('one frame at a time');
  return decodeBody(body, options.separator ?? DEFAULT_SEPARATOR);
}

/** Encodes a frame, EOT included; throws a FrameError for anything decode would not return as given. */
export function encode(frame: Frame, options: CodecOptions = {}): Buffer {
  const separator = options.separator ?? DEFAULT_SEPARATOR;
  const sep = String.fromCharCode(separator);
  const { origin, destination, type, fields } = frame;
  if (!ID_PATTERN.test(origin)) throw bad('origin is not a device id');
  if (destination !== BROADCAST && !ID_PATTERN.test(destination))
    throw bad('destination is not a device id or *');
  if (!TYPE_PATTERN.test(type)) throw bad('type must be 1-16 of A-Z 0-9 _');
  if (!Array.isArray(fields) || fields.some((f) => typeof f !== 'string'))
    throw bad('fields must be strings');
  const spec = FIELDS[type];
  if (spec) {
    if (fields.length > spec.length) throw bad(`${type} has at most ${spec.length} fields`);
    checkFields(type, spec, fields);
  }
  const sepBuffer = Buffer.from([separator]);
  const chunks: Buffer[] = [Buffer.from(origin), sepBuffer, Buffer.from(destination), sepBuffer];
  chunks.push(Buffer.from(type));
  fields.forEach((value, i) => {
    if (LONE_SURROGATE.test(value)) throw bad(`field ${i + 1} is not valid text`);
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.includes(EOT)) throw bad(`field ${i + 1} contains EOT`);
    const last = spec ? i === spec.length - 1 : false;
    if (!last && (separator < 0x80 ? value.includes(sep) : bytes.includes(separator)))
      throw bad(`field ${i + 1} contains the separator (only a type's last field may)`);
    chunks.push(sepBuffer, bytes);
  });
  chunks.push(Buffer.from([EOT]));
  const out = Buffer.concat(chunks);
  const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (out.length > max)
    throw new FrameError('FRAME_TOO_LARGE', `${out.length} bytes (limit ${max})`);
  return out;
}

/** A frame from the server to `destination`, encoded. An answer may quote
 *  what a device sent: when that makes it too long or otherwise unsendable,
 *  the answer goes with its first field only (an ERROR's code says enough). */
export function encodeFromServer(
  destination: string,
  type: string,
  fields: string[],
  options: CodecOptions,
): Buffer {
  const frame = { origin: SERVER, destination, type, fields };
  try {
    return encode(frame, options);
  } catch {
    return encode({ ...frame, fields: fields.slice(0, 1) }, options);
  }
}

function field(body: Buffer, start: number, end: number): string {
  const bytes = body.subarray(start, end);
  // Text is UTF-8: invalid bytes are refused, not silently replaced.
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] >= 0x80) {
      if (!isUtf8(bytes)) throw bad('a field is not UTF-8');
      break;
    }
  }
  return bytes.toString('utf8');
}

function checkFields(type: string, spec: readonly string[], fields: string[]): void {
  spec.forEach((name, i) => {
    if (name.endsWith('?')) return;
    if (fields[i] === undefined || fields[i] === '') throw bad(`${type} needs a non-empty ${name}`);
  });
}
