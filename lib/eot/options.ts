// The EOT server's settings with their defaults, checked in one place so the
// config node, the launcher and tests get the same clear errors.
import type { TlsOptions } from 'node:tls';
import { separatorByte } from './codec';
import { DEFAULT_MAX_FRAME_BYTES } from './constants';
import { DEFAULT_THROTTLE, ThrottlePolicy } from './login-guard';

export interface EotServerOptions {
  /** Plain TCP port (0: any free port); undefined: no plain listener. */
  port?: number;
  host?: string;
  /** A TLS listener as well (or instead). */
  tls?: { port: number; host?: string } & TlsOptions;
  /** One byte other than EOT, NUL, CR, LF. Default `|`. */
  separator?: string | number;
  /** Maximum frame size, EOT included. Default 4096. */
  maxFrameBytes?: number;
  /** Time to log in after connecting. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Silence after which a logged-in device is closed (PING keeps it open); 0: never. Default 5 min. */
  idleTimeoutMs?: number;
  /** Accept the seed's AUTH besides AUTH2. Default true. */
  legacyAuth?: boolean;
  throttle?: Partial<ThrottlePolicy>;
  /** Replay window of AUTH randoms. Default 24 h. */
  replayWindowMs?: number;
  /** Time to live of a queued MSG or WRITE. Default 1 h. */
  queueTtlMs?: number;
  /** Frames kept per offline device; beyond, the sender gets ERROR|OFFLINE. Default 1000. */
  queueMaxPerDevice?: number;
  /** Bytes waiting to be sent to one device before it is closed as a slow consumer. Default 256 KiB. */
  maxOutboundBytes?: number;
  /** Connections of one address still logging in, beyond which new ones are refused. Default 64. */
  maxHandshakesPerAddress?: number;
  /** Open connections in all, beyond which new ones are refused; 0: no limit. Default 50,000. */
  maxConnections?: number;
  /** How often timeouts are checked. Default 1 s. */
  sweepIntervalMs?: number;
  /** How often expired queued frames are reported and removed. Default 5 s. */
  queueSweepMs?: number;
}

export type ResolvedOptions = Required<
  Omit<EotServerOptions, 'port' | 'tls' | 'separator' | 'throttle' | 'host'>
> & {
  port?: number;
  host?: string;
  tls?: EotServerOptions['tls'];
  separator: number;
  throttle: ThrottlePolicy;
};

function whole(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} must be a whole number of at least ${min}`);
  return value;
}

export function resolveOptions(options: EotServerOptions): ResolvedOptions {
  if (options.port === undefined && !options.tls)
    throw new Error('the EOT server needs a port, a TLS port, or both');
  for (const [name, p] of [
    ['port', options.port],
    ['TLS port', options.tls?.port],
  ] as const) {
    if (p !== undefined && (!Number.isInteger(p) || p < 0 || p > 65535))
      throw new Error(`${name} must be 0-65535`);
  }
  const maxFrameBytes = whole('maxFrameBytes', options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, 64);
  return {
    port: options.port,
    host: options.host,
    tls: options.tls,
    separator: separatorByte(options.separator),
    maxFrameBytes,
    handshakeTimeoutMs: whole('handshakeTimeoutMs', options.handshakeTimeoutMs, 10_000, 1),
    idleTimeoutMs: whole('idleTimeoutMs', options.idleTimeoutMs, 300_000, 0),
    legacyAuth: options.legacyAuth ?? true,
    throttle: {
      maxFailures: whole(
        'throttle.maxFailures',
        options.throttle?.maxFailures,
        DEFAULT_THROTTLE.maxFailures,
        0,
      ),
      windowMs: whole(
        'throttle.windowMs',
        options.throttle?.windowMs,
        DEFAULT_THROTTLE.windowMs,
        1,
      ),
      lockMs: whole('throttle.lockMs', options.throttle?.lockMs, DEFAULT_THROTTLE.lockMs, 1),
    },
    replayWindowMs: whole('replayWindowMs', options.replayWindowMs, 24 * 3600_000, 1),
    queueTtlMs: whole('queueTtlMs', options.queueTtlMs, 3600_000, 1),
    queueMaxPerDevice: whole('queueMaxPerDevice', options.queueMaxPerDevice, 1000, 0),
    maxOutboundBytes: whole(
      'maxOutboundBytes',
      options.maxOutboundBytes,
      256 * 1024,
      maxFrameBytes,
    ),
    maxHandshakesPerAddress: whole(
      'maxHandshakesPerAddress',
      options.maxHandshakesPerAddress,
      64,
      1,
    ),
    maxConnections: whole('maxConnections', options.maxConnections, 50_000, 0),
    sweepIntervalMs: whole('sweepIntervalMs', options.sweepIntervalMs, 1000, 1),
    queueSweepMs: whole('queueSweepMs', options.queueSweepMs, 5000, 1),
  };
}
