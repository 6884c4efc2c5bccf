// The express app around Node-RED: operations endpoints first (never behind
// the editor login), then the editor and admin API, then flow endpoints and
// the dashboard behind the optional dashboard login.
import express, { Express, RequestHandler } from 'express';
import { HealthMonitor } from '../../lib/ops/health';
import { registry } from '../../lib/ops/metrics';
import { secretsEqual } from '../../lib/security/secrets';
import { basicAuthMiddleware, LoginGate } from './login-check';

export interface HttpOptions {
  health: HealthMonitor;
  metricsToken?: string;
  staticDir?: string;
}

export function createApp(options: HttpOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', healthz(options.health));
  app.get('/metrics', metrics(options.metricsToken));
  if (options.staticDir) app.use('/static', express.static(options.staticDir));
  return app;
}

/** Mounts Node-RED's apps: the editor and admin API, then flow endpoints. */
export function mountNodeRed(
  app: Express,
  httpAdmin: Express,
  httpNode: Express,
  dashboardLogin?: LoginGate,
): void {
  app.use('/', httpAdmin);
  if (dashboardLogin)
    app.use('/', basicAuthMiddleware(dashboardLogin, 'Sensflow dashboard'), httpNode);
  else app.use('/', httpNode);
}

function healthz(health: HealthMonitor): RequestHandler {
  return (_req, res, next) => {
    health.check().then((report) => {
      res.status(report.status === 'up' ? 200 : 503).json(report);
    }, next);
  };
}

function metrics(token: string | undefined): RequestHandler {
  return (req, res, next) => {
    if (token) {
      const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      if (!secretsEqual(given, token)) {
        res.set('WWW-Authenticate', 'Bearer realm="metrics"');
        res.status(401).json({ error: 'metrics token required' });
        return;
      }
    }
    registry.metrics().then((text) => {
      res.set('Content-Type', registry.contentType).send(text);
    }, next);
  };
}
