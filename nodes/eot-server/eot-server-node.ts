// What the eot-server config node offers the nodes that use it, and how its
// editor settings become server options (shared by the node and its tests).
import type { Node } from 'node-red';
import type { EotServerOptions } from '../../lib/eot/options';
import type { EotServer } from '../../lib/eot/server';

export interface EotServerConfigNode extends Node {
  /** The running server; rejects with the reason it could not start. */
  server(): Promise<EotServer>;
}

/** The editor's fields (strings from the form, or numbers). */
export interface EotServerFields {
  host?: string;
  port?: string | number;
  tlsPort?: string | number;
  separator?: string;
  legacyAuth?: boolean;
  maxFrameBytes?: string | number;
  handshakeTimeout?: string | number;
  idleTimeout?: string | number;
  queueTtl?: string | number;
  queueMax?: string | number;
  maxOutboundKb?: string | number;
  maxHandshakesPerAddress?: string | number;
  throttleFailures?: string | number;
  throttleWindow?: string | number;
  throttleLock?: string | number;
}

export class EotConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'EotConfigError';
  }
}

function num(field: string, value: string | number | undefined, scale = 1): number | undefined {
  if (value === undefined || value === '' || value === null) return undefined;
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(n) || n < 0) throw new EotConfigError(field, `"${value}" is not a number`);
  return Math.round(n * scale);
}

/** Server options from the editor fields; TLS options come from a tls-config node. */
export function optionsFromFields(
  fields: EotServerFields,
  tls?: Record<string, unknown>,
): EotServerOptions {
  const port = num('port', fields.port);
  const tlsPort = num('tlsPort', fields.tlsPort);
  if (tls && tlsPort === undefined) throw new EotConfigError('tlsPort', 'TLS needs a port');
  return {
    host: fields.host?.trim() || undefined,
    port,
    tls: tls && tlsPort !== undefined ? { port: tlsPort, ...tls } : undefined,
    separator: fields.separator || undefined,
    legacyAuth: fields.legacyAuth !== false,
    maxFrameBytes: num('maxFrameBytes', fields.maxFrameBytes),
    handshakeTimeoutMs: num('handshakeTimeout', fields.handshakeTimeout, 1000),
    idleTimeoutMs: num('idleTimeout', fields.idleTimeout, 1000),
    queueTtlMs: num('queueTtl', fields.queueTtl, 1000),
    queueMaxPerDevice: num('queueMax', fields.queueMax),
    maxOutboundBytes: num('maxOutboundKb', fields.maxOutboundKb, 1024),
    maxHandshakesPerAddress: num('maxHandshakesPerAddress', fields.maxHandshakesPerAddress),
    throttle: {
      maxFailures: num('throttleFailures', fields.throttleFailures),
      windowMs: num('throttleWindow', fields.throttleWindow, 1000),
      lockMs: num('throttleLock', fields.throttleLock, 1000),
    },
  };
}
