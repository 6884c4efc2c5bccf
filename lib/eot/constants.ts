// The EOT protocol, version 1, as constants: bytes, limits, patterns, error
// codes and the fields of every type the server knows (eot-protocol.md).

/** End of transmission: ends every frame. */
export const EOT = 0x04;
/** The default field separator, `|`. */
export const DEFAULT_SEPARATOR = 0x7c;
/** Bytes a separator may never be: EOT, NUL, CR, LF. */
export const FORBIDDEN_SEPARATORS: readonly number[] = [EOT, 0x00, 0x0d, 0x0a];
/** Maximum frame size, EOT included. */
export const DEFAULT_MAX_FRAME_BYTES = 4096;

export const PROTOCOL_VERSION = '1';
/** The server's name as origin or destination. */
export const SERVER = 'SERVER';
/** As destination: every device of the sender's customer. */
export const BROADCAST = '*';

export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
export const TYPE_PATTERN = /^[A-Z0-9_]{1,16}$/;
export const NONCE_PATTERN = /^[0-9a-f]{32}$/;
export const HEX_SHA256_PATTERN = /^[0-9a-f]{64}$/;
/** The seed's AUTH random: exactly 5 digits (anything longer opens SHA-256 length extension). */
export const AUTH_RANDOM_PATTERN = /^[0-9]{5}$/;

export const ERROR_CODES = [
  'NOT_AUTHENTICATED',
  'FRAME_TOO_LARGE',
  'BAD_FRAME',
  'ORIGIN_MISMATCH',
  'FORBIDDEN',
  'UNKNOWN_DESTINATION',
  'OFFLINE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The fields after the type, per known type. A name ending in `?` is optional:
 * it may be empty, and trailing optional fields may be left out. Any other
 * field must be present and non-empty. Only the last field of a type may hold
 * the separator; a type not listed here has no arity, so none of its fields may.
 */
export const FIELDS: Readonly<Record<string, readonly string[]>> = {
  HELLO: ['version', 'nonce'],
  AUTH2: ['deviceType', 'nonce', 'mac'],
  AUTH: ['deviceType', 'random', 'digest'],
  AUTHOK: [],
  AUTHFAIL: [],
  MSG: ['payload?'],
  READ: ['sensor'],
  READING: ['sensor', 'value', 'unit?', 'ts?'],
  WRITE: ['actuator', 'value'],
  ACK: ['ref', 'detail?'],
  EVENT: ['name', 'data?'],
  ALARM: ['name', 'value?'],
  SUB: ['name', 'condition?'],
  UNSUB: ['name'],
  PING: [],
  PONG: [],
  ERROR: ['code', 'text?'],
};

/** Types the server routes from one device to another of the same customer. */
export const ROUTED_TYPES: ReadonlySet<string> = new Set([
  'MSG',
  'READ',
  'READING',
  'WRITE',
  'ACK',
]);
/** Routed types kept for an offline destination (and acknowledged `ACK|queued`). */
export const QUEUED_TYPES: ReadonlySet<string> = new Set(['MSG', 'WRITE']);
/** Types only the server sends, or only before login. */
export const HANDSHAKE_TYPES: ReadonlySet<string> = new Set([
  'HELLO',
  'AUTH2',
  'AUTH',
  'AUTHOK',
  'AUTHFAIL',
]);
