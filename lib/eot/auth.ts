// The two logins of the protocol as pure functions: the proof a device sends
// (AUTH2: HMAC-SHA256 over the server's nonce; AUTH: the seed's SHA-256 of
// serial and a 5-digit random), and its check in constant time.
import crypto from 'node:crypto';
import type { Frame } from './codec';
import { AUTH_RANDOM_PATTERN, HEX_SHA256_PATTERN, NONCE_PATTERN } from './constants';

export type LoginMode = 'AUTH2' | 'AUTH';

export type LoginProof =
  | { mode: 'AUTH2'; id: string; deviceType: string; nonce: string; mac: string }
  | { mode: 'AUTH'; id: string; deviceType: string; random: string; digest: string };

/** Why a login failed: for the log and metrics, never for the peer. */
export type LoginFailure =
  | 'bad_format'
  | 'mode_disabled'
  | 'bad_nonce'
  | 'throttled'
  | 'unknown_id'
  | 'wrong_type'
  | 'disabled'
  | 'bad_digest'
  | 'replay'
  | 'unavailable';

/** 16 random bytes as 32 lower-case hex characters, for HELLO. */
export function newNonce(): string {
  return crypto.randomBytes(16).toString('hex');
}

/** AUTH2's mac: HMAC-SHA256, key the serial, message `<nonce><id><deviceType>`. */
export function auth2Mac(serial: string, nonce: string, id: string, deviceType: string): string {
  return crypto
    .createHmac('sha256', Buffer.from(serial, 'utf8'))
    .update(Buffer.from(nonce + id + deviceType, 'utf8'))
    .digest('hex');
}

/** The seed's AUTH digest: SHA-256 of `<serial><random>`. */
export function authDigest(serial: string, random: string): string {
  return crypto
    .createHash('sha256')
    .update(Buffer.from(serial + random, 'utf8'))
    .digest('hex');
}

/** The proof an AUTH2 or AUTH frame carries, or null for any other frame. */
export function proofFromFrame(frame: Frame): LoginProof | null {
  const [deviceType, second, third] = frame.fields;
  if (frame.type === 'AUTH2')
    return { mode: 'AUTH2', id: frame.origin, deviceType, nonce: second, mac: third };
  if (frame.type === 'AUTH')
    return { mode: 'AUTH', id: frame.origin, deviceType, random: second, digest: third };
  return null;
}

/** Whether the proof has the strict shape of its mode (checked before any secret is used). */
export function wellFormed(proof: LoginProof): boolean {
  if (proof.mode === 'AUTH2')
    return NONCE_PATTERN.test(proof.nonce) && HEX_SHA256_PATTERN.test(proof.mac);
  // Exactly 5 digits: a longer random would let SHA-256 length extension forge a digest.
  return AUTH_RANDOM_PATTERN.test(proof.random) && HEX_SHA256_PATTERN.test(proof.digest);
}

/** Checks a well-formed proof against the serial in time independent of where it differs. */
export function proofMatches(proof: LoginProof, serial: string): boolean {
  const expected =
    proof.mode === 'AUTH2'
      ? auth2Mac(serial, proof.nonce, proof.id, proof.deviceType)
      : authDigest(serial, proof.random);
  const given = proof.mode === 'AUTH2' ? proof.mac : proof.digest;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  // Both are 64 hex characters once wellFormed passed; timingSafeEqual needs equal lengths.
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}
