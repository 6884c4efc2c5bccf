// Checks a device login against the registry: throttling first, then the
// proof's strict format, the device (known, of the claimed type, enabled), the
// proof in constant time, and for the seed's AUTH the replay window. Used by
// the EOT server and by the device-auth node for logins over other transports.
import type { Kysely } from 'kysely';
import type { DeviceDirectory, DeviceInfo } from '../registry/directory';
import type { Database } from '../store/schema';
import type { Clock } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import { LoginFailure, LoginProof, newNonce, proofMatches, wellFormed } from './auth';
import {
  addressKey,
  DAY_MS,
  DEFAULT_THROTTLE,
  idKey,
  LoginThrottle,
  ReplayWindow,
  ThrottlePolicy,
} from './login-guard';

export interface AuthenticatorOptions {
  /** Accept the seed's AUTH (device-chosen random); AUTH2 is always accepted. */
  legacyAuth: boolean;
  throttle?: ThrottlePolicy;
  replayWindowMs?: number;
}

export interface LoginContext {
  /** The peer's address, throttled like the id. */
  address?: string;
  /** The nonce this login must answer (AUTH2). */
  nonce?: string;
  /** Accept the nonce once only within the replay window (when the caller cannot
   *  guarantee it is fresh, e.g. a flow's HTTP login). */
  singleUseNonce?: boolean;
}

export type LoginResult =
  { ok: true; device: DeviceInfo } | { ok: false; reason: LoginFailure; detail?: string };

export class Authenticator {
  readonly throttle: LoginThrottle;
  readonly replay: ReplayWindow;

  constructor(
    private readonly directory: DeviceDirectory,
    db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly options: AuthenticatorOptions,
    private readonly logger?: Logger,
  ) {
    this.throttle = new LoginThrottle(db, options.throttle ?? DEFAULT_THROTTLE);
    this.replay = new ReplayWindow(db, options.replayWindowMs ?? DAY_MS);
  }

  async check(proof: LoginProof, context: LoginContext = {}): Promise<LoginResult> {
    const keys = [idKey(proof.id)];
    if (context.address) keys.push(addressKey(context.address));
    try {
      const now = this.clock.now();
      if (await this.throttle.lockedOut(keys, now)) return { ok: false, reason: 'throttled' };
      const failure = await this.verify(proof, context, now);
      if (typeof failure === 'string') {
        await this.throttle.recordFailure(keys, this.clock.now());
        return { ok: false, reason: failure };
      }
      return { ok: true, device: failure };
    } catch (err) {
      this.logger?.error(`EOT login of ${proof.id}: ${errorMessage(err)}`);
      return { ok: false, reason: 'unavailable', detail: errorMessage(err) };
    }
  }

  private async verify(
    proof: LoginProof,
    context: LoginContext,
    now: number,
  ): Promise<LoginFailure | DeviceInfo> {
    if (proof.mode === 'AUTH' && !this.options.legacyAuth) return 'mode_disabled';
    if (!wellFormed(proof)) return 'bad_format';
    if (proof.mode === 'AUTH2' && proof.nonce !== context.nonce) return 'bad_nonce';
    const [device, serial] = await Promise.all([
      this.directory.findDevice(proof.id),
      this.directory.deviceSecret(proof.id),
    ]);
    // The same work for an unknown id, so timing does not tell ids apart.
    const matches = proofMatches(proof, serial ?? newNonce());
    if (!device || serial === null) return 'unknown_id';
    if (device.type !== proof.deviceType) return 'wrong_type';
    if (!device.enabled) return 'disabled';
    if (!matches) return 'bad_digest';
    if (proof.mode === 'AUTH' && !(await this.replay.claim(proof.id, proof.random, now)))
      return 'replay';
    if (
      proof.mode === 'AUTH2' &&
      context.singleUseNonce &&
      !(await this.replay.claim(proof.id, `n:${proof.nonce}`, now))
    )
      return 'replay';
    return device;
  }

  /** Forgets expired replay pairs and lockouts. */
  async prune(): Promise<void> {
    const now = this.clock.now();
    await this.replay.prune(now);
    await this.throttle.prune(now);
  }
}
