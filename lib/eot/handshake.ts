// A new connection's way in: HELLO with its nonce, then a first frame that
// must be a login (AUTH2 or AUTH), checked by the Authenticator; a device that
// passes gets AUTHOK and is handed to the router, anyone else is closed. Also
// counts, per address, the connections still logging in (a slowloris guard).
import type { DeviceDirectory } from '../registry/directory';
import type { Clock } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import { LoginProof, proofFromFrame } from './auth';
import type { Authenticator } from './authenticator';
import { CodecOptions, decodeBody, encodeFromServer, Frame, FrameError } from './codec';
import { BROADCAST, ErrorCode, PROTOCOL_VERSION, SERVER } from './constants';
import type { Connection } from './connection';
import { connectedDevices, countDropped, countFrameIn, countLogin } from './metrics';
import type { ResolvedOptions } from './options';
import type { Router } from './router';

export interface LoginInfo {
  id: string;
  customer: string;
  type: string;
  address: string;
  mode: LoginProof['mode'];
}

export interface HandshakeDeps {
  options: ResolvedOptions;
  authenticator: Authenticator;
  /** Where a logged-in device goes, and its offline queue comes from. */
  router: Pick<Router, 'online' | 'register' | 'cluster' | 'drain' | 'codec'>;
  directory: DeviceDirectory;
  clock: Clock;
  logger?: Logger;
  /** A login checked after the server stopped goes no further. */
  stopped(): boolean;
  loggedIn(info: LoginInfo): void;
}

export class Handshake {
  /** Per address, its connections that have not logged in yet. */
  private readonly pending = new Map<string, number>();

  constructor(private readonly deps: HandshakeDeps) {}

  /** Counts a new connection from `address`; false when that address already has
   *  too many that do not log in (a slowloris), and the connection is refused. */
  admit(address: string): boolean {
    const pending = this.pending.get(address) ?? 0;
    if (pending >= this.deps.options.maxHandshakesPerAddress) return false;
    this.pending.set(address, pending + 1);
    return true;
  }

  /** The greeting: the nonce an AUTH2 login must answer. */
  hello(conn: Connection): void {
    conn.write(
      encodeFromServer(BROADCAST, 'HELLO', [PROTOCOL_VERSION, conn.nonce], this.codec()),
      'HELLO',
    );
  }

  /** A frame from a connection that has not logged in: anything but a login closes it. */
  onFrame(conn: Connection, raw: Buffer): void | Promise<void> {
    let frame: Frame;
    try {
      frame = decodeBody(raw.subarray(0, raw.length - 1), this.deps.options.separator);
    } catch (err) {
      countDropped('bad_frame');
      const text = err instanceof FrameError ? err.message : 'bad frame';
      conn.close('bad_frame', this.errorFrame(conn, 'BAD_FRAME', text));
      return;
    }
    countFrameIn(frame.type);
    const proof = proofFromFrame(frame);
    if (!proof) {
      countDropped('not_authenticated');
      conn.close(
        'not_authenticated',
        this.errorFrame(conn, 'NOT_AUTHENTICATED', 'log in with AUTH2 or AUTH first'),
      );
      return;
    }
    conn.state = 'authenticating';
    if (frame.destination !== SERVER) return this.failed(conn, proof, 'bad_format');
    return this.login(conn, proof);
  }

  /** The connection logged in or closed: it no longer counts against its address. */
  done(conn: Connection): void {
    if (!conn.countedHandshake) return;
    conn.countedHandshake = false;
    const left = (this.pending.get(conn.address) ?? 1) - 1;
    if (left > 0) this.pending.set(conn.address, left);
    else this.pending.delete(conn.address);
  }

  private async login(conn: Connection, proof: LoginProof): Promise<void> {
    const { router, clock, logger } = this.deps;
    const result = await this.deps.authenticator.check(proof, {
      address: conn.address,
      nonce: conn.nonce,
    });
    if (conn.closed || this.deps.stopped()) return;
    if (!result.ok) return this.failed(conn, proof, result.reason);
    const device = result.device;
    this.done(conn);
    const previous = router.online.get(device.id);
    if (previous) {
      logger?.info(`EOT ${device.id}: a new login from ${conn.address} takes over`);
      previous.close('takeover');
    }
    conn.id = device.id;
    conn.customerId = device.customerId;
    conn.deviceType = device.type;
    conn.state = 'online';
    conn.draining = true; // live frames wait until the offline queue is delivered
    router.register(conn);
    const cluster = router.cluster;
    if (cluster) conn.session = cluster.newSession();
    connectedDevices.inc();
    countLogin('ok');
    conn.write(encodeFromServer(device.id, 'AUTHOK', [], this.codec()), 'AUTHOK');
    const now = clock.now();
    conn.seenAt = now;
    this.deps.directory.markSeen(device.id, now).catch(() => undefined);
    this.deps.loggedIn({
      id: device.id,
      customer: device.customerId,
      type: device.type,
      address: conn.address,
      mode: proof.mode,
    });
    // Where the device is, before its queue is read: a frame queued for it
    // meanwhile elsewhere is then either read here or sent on to here.
    await cluster
      ?.claim(conn)
      .catch((err: unknown) =>
        logger?.warn(`EOT presence of ${device.id} not recorded: ${errorMessage(err)}`),
      );
    await router.drain(conn);
  }

  private failed(conn: Connection, proof: LoginProof, reason: string): void {
    countLogin(reason);
    this.deps.logger?.warn(`EOT login refused for ${proof.id} from ${conn.address}: ${reason}`);
    const bytes = encodeFromServer(proof.id, 'AUTHFAIL', [], this.codec());
    conn.close(`auth_failed:${reason}`, { bytes, type: 'AUTHFAIL' });
  }

  private codec(): CodecOptions {
    return this.deps.router.codec();
  }

  private errorFrame(conn: Connection, code: ErrorCode, text: string) {
    return closingError(conn, code, text, this.codec());
  }
}

/** The ERROR frame the server closes a connection with, ready to send. */
export function closingError(
  conn: Connection,
  code: ErrorCode,
  text: string,
  codec: CodecOptions,
): { bytes: Buffer; type: 'ERROR' } {
  const bytes = encodeFromServer(conn.id ?? BROADCAST, 'ERROR', [code, text], codec);
  return { bytes, type: 'ERROR' };
}
