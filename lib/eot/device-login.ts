// Device logins presented over another transport (HTTP, UDP, …) and checked
// against the registry exactly as the EOT server checks them: the proof comes
// as a frame or an object; AUTH2's nonce is one this checker issued (used
// once, within a minute) or one the caller vouches for (then accepted once
// within the replay window).
import type { Clock } from '../util/clock';
import { LoginProof, newNonce } from './auth';
import type { Authenticator, LoginResult } from './authenticator';
import { decodeBody } from './codec';
import { DEFAULT_SEPARATOR, EOT } from './constants';
import { proofFromFrame } from './auth';

export class LoginFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoginFormatError';
  }
}

/** The login in a frame (`id|SERVER|AUTH2|type|nonce|mac`, EOT optional) or an object. */
export function proofFromPayload(payload: unknown, separator = DEFAULT_SEPARATOR): LoginProof {
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
    let bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
    if (bytes[bytes.length - 1] === EOT) bytes = bytes.subarray(0, bytes.length - 1);
    let proof: LoginProof | null;
    try {
      proof = proofFromFrame(decodeBody(bytes, separator));
    } catch (err) {
      throw new LoginFormatError(`not a login frame: ${(err as Error).message}`);
    }
    if (!proof) throw new LoginFormatError('not an AUTH2 or AUTH frame');
    return proof;
  }
  if (!payload || typeof payload !== 'object') throw new LoginFormatError('no login given');
  const p = payload as Record<string, unknown>;
  const text = (key: string) => {
    const v = p[key];
    if (typeof v !== 'string' || v === '') throw new LoginFormatError(`${key} is missing`);
    return v;
  };
  const id = text('id');
  const deviceType = typeof p.deviceType === 'string' ? p.deviceType : text('type');
  if (p.mac !== undefined)
    return { mode: 'AUTH2', id, deviceType, nonce: text('nonce'), mac: text('mac') };
  if (p.digest !== undefined)
    return { mode: 'AUTH', id, deviceType, random: text('random'), digest: text('digest') };
  throw new LoginFormatError('a login has a mac (AUTH2) or a digest (AUTH)');
}

export class DeviceLogin {
  private readonly issued = new Map<string, number>();

  constructor(
    private readonly authenticator: Authenticator,
    private readonly clock: Clock,
    private readonly nonceTtlMs = 60_000,
    private readonly maxNonces = 10_000,
  ) {}

  /** A fresh nonce to send as the challenge (HELLO) of an AUTH2 login. */
  issueNonce(): string {
    const now = this.clock.now();
    if (this.issued.size >= this.maxNonces) {
      for (const [nonce, expires] of this.issued) if (expires <= now) this.issued.delete(nonce);
      // Still full: the oldest challenges give way.
      for (const nonce of this.issued.keys()) {
        if (this.issued.size < this.maxNonces) break;
        this.issued.delete(nonce);
      }
    }
    const nonce = newNonce();
    this.issued.set(nonce, now + this.nonceTtlMs);
    return nonce;
  }

  async check(
    proof: LoginProof,
    context: { address?: string; nonce?: string } = {},
  ): Promise<LoginResult> {
    if (proof.mode === 'AUTH' || context.nonce !== undefined) {
      return this.authenticator.check(proof, {
        address: context.address,
        nonce: context.nonce,
        singleUseNonce: true,
      });
    }
    const expires = this.issued.get(proof.nonce);
    // A challenge answers one login, right or wrong.
    this.issued.delete(proof.nonce);
    const fresh = expires !== undefined && expires > this.clock.now();
    return this.authenticator.check(proof, {
      address: context.address,
      nonce: fresh ? proof.nonce : undefined,
    });
  }
}
