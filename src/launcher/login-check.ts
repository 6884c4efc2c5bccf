// HTTP Basic login for the dashboard and flow endpoints (Node-RED's
// httpNodeAuth, which embedding leaves to us). A login names a dashboard user:
// a customer (or all) and a role. bcrypt is slow on purpose, so a login that
// was just verified is remembered for a few minutes instead of being hashed
// again for every asset and socket.io poll.
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import bcrypt from 'bcryptjs';
import type { DashboardIdentity } from '../../lib/dashboard/sessions';
import { secretsEqual } from '../../lib/security/secrets';

/** The user a login belongs to, or null when it is wrong. */
export type VerifyLogin = (user: string, password: string) => Promise<DashboardIdentity | null>;

/** A login that may be switched on and off while the server runs: the
 *  dashboard asks for one once a login is configured or a dashboard user exists. */
export interface LoginGate {
  verify: VerifyLogin;
  required(): Promise<boolean>;
}

/** Accepts a login any of `verifiers` accepts (the first that does names the user). */
export function anyOf(...verifiers: VerifyLogin[]): VerifyLogin {
  return async (user, password) => {
    for (const verify of verifiers) {
      const identity = await verify(user, password);
      if (identity) return identity;
    }
    return null;
  };
}

/** The registry's dashboard users (bcrypt hashes in the store). */
export function registryUsers(users: {
  verify(user: string, password: string): Promise<DashboardIdentity | null>;
}): VerifyLogin {
  return (user, password) => users.verify(user, password);
}

/** Remembers a yes/no answer for `ttlMs`, so a check runs at most that often. */
export function remembered(
  check: () => Promise<boolean>,
  ttlMs = 5000,
  now = () => Date.now(),
): () => Promise<boolean> {
  let known: { value: boolean; until: number } | undefined;
  return async () => {
    if (known && known.until > now()) return known.value;
    const value = await check();
    known = { value, until: now() + ttlMs };
    return value;
  };
}

/** A verifier for one configured user whose password is a bcrypt hash: an
 *  operator of every customer (SENSFLOW_DASHBOARD_USER). */
export function singleUser(user: string, passwordHash: string): VerifyLogin {
  return async (u, p) =>
    secretsEqual(u, user) && (await bcrypt.compare(p, passwordHash))
      ? { username: user, customerId: null, role: 'operator' }
      : null;
}

export function cached(
  verify: VerifyLogin,
  ttlMs = 5 * 60_000,
  now = () => Date.now(),
): VerifyLogin {
  const good = new Map<string, { identity: DashboardIdentity; until: number }>();
  return async (user, password) => {
    const key = crypto.createHash('sha256').update(`${user}\0${password}`).digest('base64');
    const known = good.get(key);
    if (known !== undefined && known.until > now()) return known.identity;
    good.delete(key);
    const identity = await verify(user, password);
    if (identity) {
      if (good.size > 1000) good.clear();
      good.set(key, { identity, until: now() + ttlMs });
    }
    return identity;
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

/** The user whose Basic login the request bears, or null. */
export async function userOf(
  req: IncomingMessage,
  verify: VerifyLogin,
): Promise<DashboardIdentity | null> {
  const creds = basicCredentials(req);
  return creds === undefined ? null : verify(creds.user, creds.password);
}

/** Who may go ahead: `open` when the gate asks for no login, the user when
 *  the request bears a login it accepts, else null. */
export async function admitted(
  req: IncomingMessage,
  gate: LoginGate,
): Promise<'open' | DashboardIdentity | null> {
  if (!(await gate.required())) return 'open';
  return userOf(req, gate.verify);
}

/** True when the gate is open or the request bears a login it accepts. */
export async function passes(req: IncomingMessage, gate: LoginGate): Promise<boolean> {
  return (await admitted(req, gate)) !== null;
}

export function basicAuthMiddleware(gate: LoginGate, realm = 'Sensflow'): RequestHandler {
  return (req, res, next) => {
    passes(req, gate).then(
      (ok) => {
        if (ok) return next();
        res.set('WWW-Authenticate', `Basic realm="${realm}"`);
        res.status(401).json({ error: 'login required' });
      },
      (err: unknown) => next(err),
    );
  };
}
