// The provisioning and admin APIs in this process, on a real registry, behind
// a real HTTP server on a free loopback port.
import http from 'node:http';
import type net from 'node:net';
import express, { RequestHandler } from 'express';
import { Registry } from '../../../lib/registry/registry';
import type { DeviceRecord } from '../../../lib/registry/registry';
import { Store } from '../../../lib/store/store';
import type { Clock } from '../../../lib/util/clock';
import { silentLogger } from '../../../lib/util/log';
import { adminRouter } from '../../../src/api/admin';
import { apiNotFound } from '../../../src/api/http-errors';
import { provisioningRouter } from '../../../src/api/provisioning';

export const EDITOR_TOKEN = 'editor-admin-token';
export const API_TOKEN = 'api-token-0123456789';

/** Stands in for Node-RED's token check (the end-to-end tests use the real one). */
const requireAdmin: RequestHandler = (req, res, next) => {
  if (req.headers.authorization === `Bearer ${EDITOR_TOKEN}`) return next();
  res.status(401).json({ error: 'unauthorized' });
};

export interface ApiHarness {
  url: string;
  registry: Registry;
  close(): Promise<void>;
}

export async function startApi(
  store: Store,
  clock: Clock,
  options: {
    ratePerMinute?: number;
    onPasswordIssued?: (device: DeviceRecord, login: string, pw: string) => Promise<void>;
  } = {},
): Promise<ApiHarness> {
  const registry = new Registry(store.db, { credentialSecret: 'api-test-secret', clock });
  const app = express();
  app.use(
    provisioningRouter({
      registry,
      logger: silentLogger,
      clock,
      ratePerMinute: options.ratePerMinute ?? 1000,
      mqtt: { host: 'iot.example.org', port: 1883 },
      onPasswordIssued: options.onPasswordIssued,
    }),
  );
  app.use(
    '/api/v1',
    adminRouter({ registry, logger: silentLogger, requireAdmin, apiToken: API_TOKEN }),
    apiNotFound,
  );
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    registry,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await registry.close();
    },
  };
}

/** A JSON call; returns the status, body and headers. */
export async function call(
  url: string,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
  // The answers' shapes vary by endpoint; each test reads what it checks.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

export const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
