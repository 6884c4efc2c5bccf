// Device secrets at rest. The serial number is the shared secret of EOT
// logins, so the server must be able to read it back: it is encrypted
// (AES-256-GCM) with a key derived from the credential secret, never stored
// plain. MQTT passwords are only ever checked, so only a hash is kept.
import crypto from 'node:crypto';
import { deriveKey, randomSecret, secretsEqual } from '../security/secrets';

const VERSION = 'v1';

export class DeviceSecrets {
  private readonly serialKey: Buffer;
  private readonly pepper: Buffer;

  constructor(credentialSecret: string) {
    this.serialKey = deriveKey(credentialSecret, 'device-serial');
    this.pepper = deriveKey(credentialSecret, 'mqtt-password');
  }

  encryptSerial(serial: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.serialKey, iv);
    const data = Buffer.concat([cipher.update(serial, 'utf8'), cipher.final()]);
    return [
      VERSION,
      iv.toString('base64'),
      cipher.getAuthTag().toString('base64'),
      data.toString('base64'),
    ].join(':');
  }

  /** Throws when the value was not encrypted with this installation's secret. */
  decryptSerial(stored: string): string {
    const [version, iv, tag, data] = stored.split(':');
    if (version !== VERSION || !iv || !tag || data === undefined)
      throw new Error('unreadable serial number');
    const decipher = crypto.createDecipheriv(
      'aes-256-gcm',
      this.serialKey,
      Buffer.from(iv, 'base64'),
    );
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString(
      'utf8',
    );
  }

  /** MQTT passwords are generated with 144 bits of entropy, so a slow hash
   *  would buy nothing and cost every reconnect; the pepper (derived from the
   *  credential secret) means a copy of the database alone cannot test one. */
  hashPassword(password: string): string {
    const salt = crypto.randomBytes(16);
    return `${VERSION}:${salt.toString('base64')}:${this.digest(salt, password).toString('base64')}`;
  }

  verifyPassword(password: string, stored: string | null): boolean {
    if (!stored) return false;
    const [version, salt, digest] = stored.split(':');
    if (version !== VERSION || !salt || !digest) return false;
    return secretsEqual(
      this.digest(Buffer.from(salt, 'base64'), password),
      Buffer.from(digest, 'base64'),
    );
  }

  private digest(salt: Buffer, password: string): Buffer {
    return crypto.createHmac('sha256', this.pepper).update(salt).update(password, 'utf8').digest();
  }
}

/** A new serial number: 32 hex digits, easy to type into a device's flash. */
export function generateSerial(): string {
  return crypto.randomBytes(16).toString('hex');
}

export function generatePassword(): string {
  return randomSecret(18);
}
