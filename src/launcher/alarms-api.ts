// REST API for rule alarms, under /api/v1/alarms, behind the admin login:
//   GET  /api/v1/alarms                  list (state, deviceId, customerId, severity, ruleSet, …)
//   GET  /api/v1/alarms/:id              one alarm with its transitions
//   POST /api/v1/alarms/:id/<action>     acknowledge | shelve | unshelve | clear | escalate
// Bodies are JSON ({comment}, {duration}, {severity}); who acts is the admin
// token's user (`api-token` with SENSFLOW_API_TOKEN). Errors are JSON
// {error} with 400, 404 or 409.
import express, { ErrorRequestHandler, RequestHandler, Router } from 'express';
import type { AlarmBook } from '../../lib/alarms/book';
import { ACTIONS, parseRequest, runControl } from '../../lib/alarms/control';
import { AlarmError, statusOf } from '../../lib/alarms/errors';
import { alarmBookFor } from '../../lib/alarms/shared';
import { secretsEqual } from '../../lib/security/secrets';
import { errorMessage, Logger } from '../../lib/util/log';
import type { Extension } from './extensions';

const POST_ACTIONS = ACTIONS.filter((a) => a !== 'get' && a !== 'list');

export function alarmsRouter(
  book: AlarmBook,
  requireAdmin: RequestHandler,
  logger: Logger,
): Router {
  const router = express.Router();
  router.use(requireAdmin, express.json({ limit: '64kb' }));
  const actor = (req: express.Request) =>
    (req as { user?: { username?: string } }).user?.username ?? 'api-token';

  router.get('/', (req, res, next) => {
    const request = parseRequest(req.query as Record<string, unknown>, 'list');
    runControl(book, request).then((result) => res.json(result), next);
  });
  router.get('/:id', (req, res, next) => {
    runControl(book, { action: 'get', alarmId: req.params.id }).then((r) => res.json(r), next);
  });
  router.post('/:id/:action', (req, res, next) => {
    if (!(POST_ACTIONS as readonly string[]).includes(req.params.action)) {
      res
        .status(404)
        .json({ error: `no action ${req.params.action} (${POST_ACTIONS.join(', ')})` });
      return;
    }
    const body = req.body !== null && typeof req.body === 'object' ? req.body : {};
    const request = parseRequest(
      { ...body, id: req.params.id, user: actor(req) },
      req.params.action,
    );
    runControl(book, request).then((alarm) => res.json(alarm), next);
  });

  const errors: ErrorRequestHandler = (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    if (err instanceof AlarmError) {
      res.status(statusOf(err.kind)).json({ error: err.message });
      return;
    }
    if ((err as { type?: string }).type === 'entity.parse.failed') {
      res.status(400).json({ error: 'the body is not JSON' });
      return;
    }
    logger.error(`alarms API: ${errorMessage(err)}`);
    res.status(500).json({ error: 'internal error' });
  };
  router.use(errors);
  return router;
}

export const alarmsApi: Extension = {
  name: 'alarms API',
  async start(ctx) {
    const book = await alarmBookFor(ctx.store, ctx.logger);
    const token = ctx.settings.security.apiToken;
    // The editor's admin tokens, or the API token setting (as the registry's API).
    const auth: RequestHandler = (req, res, next) => {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (token && bearer && secretsEqual(bearer, token)) return next();
      ctx.requireAdmin(req, res, next);
    };
    ctx.app.use('/api/v1/alarms', alarmsRouter(book, auth, ctx.logger));
  },
};
