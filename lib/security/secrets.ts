// Secrets derived from the one credential secret, each for one purpose, so a
// leaked derived value reveals neither the credential secret nor its siblings.
import crypto from 'node:crypto';

/** 32 bytes for `purpose`, derived with HKDF-SHA256 from the credential secret. */
export function deriveKey(credentialSecret: string, purpose: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', credentialSecret, 'sensflow', purpose, 32));
}

/** A random secret, URL-safe, with `bytes` of entropy. */
export function randomSecret(bytes = 24): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

/** Equality of two secrets in time that does not depend on where they differ. */
export function secretsEqual(a: string | Buffer, b: string | Buffer): boolean {
  // Hash first: timingSafeEqual needs equal lengths, and the length itself must not leak.
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}
