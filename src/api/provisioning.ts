// The provisioning endpoints devices call (topics.md, normative):
//   GET /device/credentials?mac=<mac or EUI>  → {"login", "password"} (password once)
//   GET /device/config  (HTTP Basic)          → {"mqtt": {...}, "config": {...}}
// Unknown and disabled devices get 404 and 403 with nothing more; every
// address is held to a request budget, so guessing uids or passwords is slow.
import express, { Request, RequestHandler, Response, Router } from 'express';
import { RegistryError } from '../../lib/registry/errors';
import { deviceLogins, provisioningCalls } from '../../lib/registry/metrics';
import type { DeviceRecord, Registry } from '../../lib/registry/registry';
import type { Clock } from '../../lib/util/clock';
import { errorMessage, Logger } from '../../lib/util/log';
import { RateLimiter } from '../../lib/util/rate-limit';
import { basicCredentials } from '../launcher/login-check';
import { sendError } from './http-errors';

export interface ProvisioningOptions {
  registry: Registry;
  logger: Logger;
  clock: Clock;
  /** Requests per minute and address. */
  ratePerMinute: number;
  /** The broker as devices reach it: host (default: the request's host) and port. */
  mqtt: { host?: string; port: number };
  /** Called with a password just issued, before the device gets it (e.g. to
   *  tell Mosquitto). If it throws, the password is withdrawn and the call
   *  answers 503, so the device simply asks again. */
  onPasswordIssued?: (device: DeviceRecord, login: string, password: string) => Promise<void>;
}

export function provisioningRouter(options: ProvisioningOptions): Router {
  const router = express.Router();
  const limiter = new RateLimiter(options.ratePerMinute, 60_000, options.clock);
  router.use('/device', throttle(limiter));
  router.get('/device/credentials', (req, res) => {
    credentials(req, res, options).catch((err: unknown) => fail(res, 'credentials', err, options));
  });
  router.get('/device/config', (req, res) => {
    config(req, res, options).catch((err: unknown) => fail(res, 'config', err, options));
  });
  return router;
}

async function credentials(req: Request, res: Response, options: ProvisioningOptions) {
  const mac = req.query.mac;
  if (typeof mac !== 'string' || mac.length === 0 || mac.length > 64) {
    return answer(res, 'credentials', 400, { error: 'mac is required' });
  }
  const issued = await options.registry.credentialsForUid(mac);
  if (issued.password !== undefined && options.onPasswordIssued) {
    try {
      await options.onPasswordIssued(issued.device, issued.login, issued.password);
    } catch (err) {
      options.logger.warn(
        `device ${issued.device.id}: password withdrawn, the broker could not take it: ${errorMessage(err)}`,
      );
      await options.registry.resetCredentials(issued.device.id);
      return answer(res, 'credentials', 503, { error: 'try again later' });
    }
  }
  const body: { login: string; password?: string } = { login: issued.login };
  if (issued.password !== undefined) body.password = issued.password;
  res.set('Cache-Control', 'no-store');
  answer(res, 'credentials', 200, body);
}

async function config(req: Request, res: Response, options: ProvisioningOptions) {
  const given = basicCredentials(req);
  if (!given) {
    res.set('WWW-Authenticate', 'Basic realm="Sensflow devices"');
    return answer(res, 'config', 401, { error: 'login required' });
  }
  const { device, refused } = await options.registry.checkLogin(given.user, given.password);
  deviceLogins.inc({
    transport: 'http',
    result: refused ? 'refused' : 'accepted',
    reason: refused ?? 'ok',
  });
  if (refused === 'unknown') return answer(res, 'config', 404, { error: 'not found' });
  if (refused === 'disabled') return answer(res, 'config', 403, { error: 'forbidden' });
  if (refused || !device) {
    res.set('WWW-Authenticate', 'Basic realm="Sensflow devices"');
    return answer(res, 'config', 401, { error: 'login required' });
  }
  res.set('Cache-Control', 'no-store');
  answer(res, 'config', 200, {
    mqtt: {
      server: options.mqtt.host ?? req.hostname,
      port: options.mqtt.port,
      base_topic: device.location,
      login: device.mqttLogin,
    },
    config: device.config,
  });
}

function answer(res: Response, endpoint: string, status: number, body: unknown): void {
  provisioningCalls.inc({ endpoint, status: String(status) });
  res.status(status).json(body);
}

function fail(res: Response, endpoint: string, err: unknown, options: ProvisioningOptions) {
  // No detail for devices: the status says all they may know.
  if (err instanceof RegistryError && err.kind === 'not_found')
    return answer(res, endpoint, 404, { error: 'not found' });
  if (err instanceof RegistryError && err.kind === 'forbidden')
    return answer(res, endpoint, 403, { error: 'forbidden' });
  sendError(res, err, options.logger);
  provisioningCalls.inc({ endpoint, status: String(res.statusCode) });
}

function throttle(limiter: RateLimiter): RequestHandler {
  return (req, res, next) => {
    const waitMs = limiter.take(req.ip ?? req.socket.remoteAddress ?? '?');
    if (waitMs === 0) return next();
    res.set('Retry-After', String(Math.ceil(waitMs / 1000)));
    answer(res, req.path.replace(/^\//, ''), 429, { error: 'too many requests' });
  };
}
