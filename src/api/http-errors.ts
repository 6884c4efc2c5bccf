// How the HTTP APIs answer a failure: registry errors by kind with the field
// path, an unreachable store with 503, anything else with 500 (logged, never
// shown). Bodies are always JSON: `{"error": "...", "path": "..."}`.
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { isUnavailable, RegistryError } from '../../lib/registry/errors';
import { errorMessage, Logger } from '../../lib/util/log';

const STATUS: Record<RegistryError['kind'], number> = {
  invalid: 400,
  not_found: 404,
  conflict: 409,
  forbidden: 403,
  unavailable: 503,
};

export function sendError(res: Response, err: unknown, logger: Logger): void {
  if (err instanceof RegistryError) {
    const body: { error: string; path?: string } = { error: err.message };
    if (err.path) body.path = err.path;
    res.status(STATUS[err.kind]).json(body);
  } else if (isUnavailable(err)) {
    res.status(503).json({ error: 'the store is unavailable, try again later' });
  } else {
    logger.error(`API: ${errorMessage(err)}`);
    res.status(500).json({ error: 'internal error' });
  }
}

/** Express's last handler for the APIs: bad JSON bodies and oversize ones too. */
export function jsonErrors(logger: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, next) => {
    if (res.headersSent) return next(err);
    const status = (err as { status?: number; type?: string }).status;
    if (status === 413) {
      res.status(413).json({ error: 'request body too large' });
    } else if (status === 400 && (err as { type?: string }).type === 'entity.parse.failed') {
      res.status(400).json({ error: 'request body is not valid JSON' });
    } else {
      sendError(res, err, logger);
    }
  };
}

/** The answer to a path no API router knows: mounted after all of them. */
export const apiNotFound: RequestHandler = (_req, res) => {
  res.status(404).json({ error: 'no such API endpoint' });
};
