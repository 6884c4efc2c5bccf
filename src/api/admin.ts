// The admin REST API under /api/v1/: customers, device types, devices and
// dashboard users. It takes an editor admin token (Node-RED's `POST
// /auth/token`) or the API token setting; answers are JSON, failures
// `{"error", "path"}` with the field at fault (see http-errors.ts).
import express, { Request, RequestHandler, Response, Router } from 'express';
import { invalid, notFound } from '../../lib/registry/errors';
import type { DeviceFilter, Registry } from '../../lib/registry/registry';
import { secretsEqual } from '../../lib/security/secrets';
import type { Logger } from '../../lib/util/log';
import { jsonErrors, sendError } from './http-errors';

export interface AdminApiOptions {
  registry: Registry;
  logger: Logger;
  /** Lets through requests bearing an editor admin token; 401 otherwise. */
  requireAdmin: RequestHandler;
  /** A static bearer token also accepted (SENSFLOW_API_TOKEN). */
  apiToken?: string;
}

type Handler = (req: Request, res: Response) => Promise<unknown>;

const DEVICE_FIELDS = [
  'id',
  'type',
  'customerId',
  'location',
  'uidType',
  'uid',
  'description',
  'enabled',
  'config',
  'serial',
  'outdatedAfterMs',
];
const PATCH_FIELDS = DEVICE_FIELDS.filter((f) => !['id', 'serial', 'enabled'].includes(f));

export function adminRouter(options: AdminApiOptions): Router {
  const { registry, logger } = options;
  const router = express.Router();
  const route = (handler: Handler): RequestHandler => {
    return (req, res) => {
      handler(req, res).then(
        (body) => {
          if (!res.headersSent) res.status(body === undefined ? 204 : 200).json(body);
        },
        (err: unknown) => sendError(res, err, logger),
      );
    };
  };
  router.use(adminAuth(options));
  router.use(express.json({ limit: '128kb' }));

  // Customers
  router.get(
    '/customers',
    route(() => registry.customers.list()),
  );
  router.post(
    '/customers',
    route(async (req, res) => {
      const body = fields(req.body, ['id', 'name']);
      await registry.customers.add(body as { id: string; name: string });
      res.status(201).json({ id: body.id, name: body.name });
    }),
  );
  router.delete(
    '/customers/:id',
    route(async (req) => {
      await registry.customers.remove(req.params.id);
    }),
  );

  // Device types
  router.get(
    '/device-types',
    route(() => registry.types.list()),
  );
  router.put(
    '/device-types/:name',
    route(async (req) => {
      const body = fields(req.body, ['configSchema', 'orders', 'outdatedAfterMs']);
      await registry.types.save({ ...body, name: req.params.name });
      return (await registry.types.list()).find((t) => t.name === req.params.name);
    }),
  );
  router.delete(
    '/device-types/:name',
    route(async (req) => {
      await registry.types.remove(req.params.name);
    }),
  );

  // Devices
  router.get(
    '/devices',
    route(async (req) => {
      const filter = deviceFilter(req.query);
      const page = await registry.listDevices(filter);
      return { ...page, limit: filter.limit ?? 100, offset: filter.offset ?? 0 };
    }),
  );
  router.post(
    '/devices',
    route(async (req, res) => {
      const body = fields(req.body, DEVICE_FIELDS);
      const created = await registry.addDevice(body as never);
      // The serial number is shown in this answer only.
      res.status(201).json(created);
    }),
  );
  router.get(
    '/devices/:id',
    route(async (req) => {
      const device = await registry.getDevice(req.params.id);
      if (!device) throw notFound(`no device ${req.params.id}`);
      return device;
    }),
  );
  router.patch(
    '/devices/:id',
    route((req) => registry.updateDevice(req.params.id, fields(req.body, PATCH_FIELDS))),
  );
  for (const [action, enabled] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    router.post(
      `/devices/:id/${action}`,
      route(async (req) => {
        await registry.setEnabled(req.params.id, enabled);
        return registry.getDevice(req.params.id);
      }),
    );
  }
  router.post(
    '/devices/:id/reset-credentials',
    route(async (req) => {
      await registry.resetCredentials(req.params.id);
      return registry.getDevice(req.params.id);
    }),
  );
  router.put(
    '/devices/:id/serial',
    route(async (req) => {
      const body = fields(req.body, ['serial']);
      await registry.setSerial(req.params.id, body.serial as string);
    }),
  );
  router.delete(
    '/devices/:id',
    route(async (req) => {
      await registry.removeDevice(req.params.id);
    }),
  );

  // Dashboard users
  router.get(
    '/users',
    route(() => registry.users.list()),
  );
  router.post(
    '/users',
    route(async (req, res) => {
      const body = fields(req.body, ['username', 'password', 'customerId', 'role']);
      res.status(201).json(await registry.users.add(body as never));
    }),
  );
  router.put(
    '/users/:username/password',
    route(async (req) => {
      const body = fields(req.body, ['password']);
      await registry.users.setPassword(req.params.username, body.password as string);
    }),
  );
  router.delete(
    '/users/:username',
    route(async (req) => {
      await registry.users.remove(req.params.username);
    }),
  );

  // Unknown paths fall through to the other /api/v1 routers (alarms, …);
  // the launcher answers 404 after all of them.
  router.use(jsonErrors(logger));
  return router;
}

/** The editor's admin tokens, or the API token setting. */
function adminAuth(options: AdminApiOptions): RequestHandler {
  return (req, res, next) => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (options.apiToken && bearer && secretsEqual(bearer, options.apiToken)) return next();
    options.requireAdmin(req, res, next);
  };
}

/** The body as an object holding only `allowed` keys; others are errors with their path. */
function fields(body: unknown, allowed: string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid('', 'the request body must be a JSON object');
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw invalid(key, 'is not a known field');
  }
  return body as Record<string, unknown>;
}

function deviceFilter(query: Request['query']): DeviceFilter {
  const text = (name: string) => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw invalid(name, 'must be given once');
    return value;
  };
  const whole = (name: string) => {
    const value = text(name);
    if (value === undefined) return undefined;
    if (!/^\d{1,9}$/.test(value)) throw invalid(name, 'must be a whole number');
    return Number(value);
  };
  const enabled = text('enabled');
  if (enabled !== undefined && enabled !== 'true' && enabled !== 'false')
    throw invalid('enabled', 'must be true or false');
  const limit = whole('limit');
  if (limit !== undefined && (limit < 1 || limit > 1000))
    throw invalid('limit', 'must be from 1 to 1000');
  return {
    customerId: text('customer'),
    type: text('type'),
    location: text('location'),
    enabled: enabled === undefined ? undefined : enabled === 'true',
    limit,
    offset: whole('offset'),
  };
}
