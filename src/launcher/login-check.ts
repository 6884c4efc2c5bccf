// HTTP Basic login for the dashboard and flow endpoints (Node-RED's
// httpNodeAuth, which embedding leaves to us). bcrypt is slow on purpose, so a
// login that was just verified is remembered for a few minutes instead of
// being hashed again for every asset and socket.io poll.
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import bcrypt from 'bcryptjs';
import { secretsEqual } from '../../lib/security/secrets';

export type VerifyLogin = (user: string, password: string) => Promise<boolean>;

/** A verifier for one configured user whose password is a bcrypt hash. */
export function singleUser(user: string, passwordHash: string): VerifyLogin {
  return async (u, p) => secretsEqual(u, user) && (await bcrypt.compare(p, passwordHash));
}

export function cached(
  verify: VerifyLogin,
  ttlMs = 5 * 60_000,
  now = () => Date.now(),
): VerifyLogin {
  const good = new Map<string, number>();
  return async (user, password) => {
    const key = crypto.createHash('sha256').update(`${user}\0${password}`).digest('base64');
    const until = good.get(key);
    if (until !== undefined && until > now()) return true;
    good.delete(key);
    const ok = await verify(user, password);
    if (ok) {
      if (good.size > 1000) good.clear();
      good.set(key, now() + ttlMs);
    }
    return ok;
  };
}

export function basicCredentials(
  req: IncomingMessage,
): { user: string; password: string } | undefined {
  const header = req.headers.authorization;
  const match = header && /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export async function isAuthorized(req: IncomingMessage, verify: VerifyLogin): Promise<boolean> {
  const creds = basicCredentials(req);
  return creds !== undefined && (await verify(creds.user, creds.password));
}

export function basicAuthMiddleware(verify: VerifyLogin, realm = 'Sensflow'): RequestHandler {
  return (req, res, next) => {
    isAuthorized(req, verify).then(
      (ok) => {
        if (ok) return next();
        res.set('WWW-Authenticate', `Basic realm="${realm}"`);
        res.status(401).json({ error: 'login required' });
      },
      (err: unknown) => next(err),
    );
  };
}
