// A client of Node-RED's admin HTTP API, for what deploying needs: the login
// (`GET /auth/login`, `POST /auth/token`, `POST /auth/revoke`), the node list,
// and the flows. Works with Sensflow and with a stock Node-RED, with or
// without an admin login. Every failure is one AdminApiError with a sentence.
import type { NodeSetInfo } from './catalog';
import type { FlowNode } from './flow-file';

export type DeploymentType = 'full' | 'nodes' | 'flows';

export class AdminApiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminApiError';
  }
}

/** The URL given is not one a server could be reached at. */
export class BadUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadUrlError';
  }
}

export interface AdminApiOptions {
  /** How long one request may take. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class AdminApi {
  readonly url: URL;
  private token: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  /** `url` is the admin root: the editor's address (a path kept). */
  constructor(url: string, options: AdminApiOptions = {}) {
    this.url = adminRoot(url);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fetchFn = options.fetch ?? fetch;
  }

  /** Whether the server asks for a login: `credentials` (user and password),
   *  `strategy` (an OAuth-like login a command line cannot do) or `none`. */
  async loginScheme(): Promise<'none' | 'credentials' | 'strategy'> {
    const body = await this.json<{ type?: string }>('GET', 'auth/login');
    if (body.type === 'credentials' || body.type === 'strategy') return body.type;
    return 'none';
  }

  async login(username: string, password: string): Promise<void> {
    const res = await this.request('POST', 'auth/token', {
      'content-type': 'application/x-www-form-urlencoded',
      body: new URLSearchParams({
        client_id: 'node-red-admin',
        grant_type: 'password',
        scope: '*',
        username,
        password,
      }).toString(),
    });
    if (res.status === 401 || res.status === 403)
      throw new AdminApiError(
        `${this.url} refused the login of "${username}": wrong user or password`,
      );
    await this.expectOk(res, 'POST auth/token');
    const body = (await res.json()) as { access_token?: unknown };
    if (typeof body.access_token !== 'string')
      throw new AdminApiError(`${this.url} answered the login without a token`);
    this.token = body.access_token;
  }

  /** Gives the token back, so it does not outlive the command. */
  async logout(): Promise<void> {
    if (!this.token) return;
    const token = this.token;
    const res = await this.request('POST', 'auth/revoke', {
      'content-type': 'application/json',
      body: JSON.stringify({ token }),
    });
    this.token = undefined;
    await res.arrayBuffer();
  }

  async nodeSets(): Promise<NodeSetInfo[]> {
    const sets = await this.json<unknown>('GET', 'nodes', { accept: 'application/json' });
    if (!Array.isArray(sets)) throw new AdminApiError(`${this.url}nodes is not a node list`);
    return sets as NodeSetInfo[];
  }

  async flows(): Promise<{ rev: string; flows: FlowNode[] }> {
    const body = await this.json<{ rev?: unknown; flows?: unknown }>('GET', 'flows', {
      'node-red-api-version': 'v2',
    });
    if (typeof body.rev !== 'string' || !Array.isArray(body.flows))
      throw new AdminApiError(`${this.url}flows did not answer a flow configuration`);
    return { rev: body.rev, flows: body.flows as FlowNode[] };
  }

  /** Posts a complete configuration; `rev` is the revision it was planned on,
   *  so a deploy made meanwhile by someone else is not overwritten. */
  async deploy(flows: FlowNode[], rev: string, type: DeploymentType): Promise<string> {
    const res = await this.request('POST', 'flows', {
      'content-type': 'application/json',
      'node-red-api-version': 'v2',
      'node-red-deployment-type': type,
      body: JSON.stringify({ rev, flows }),
    });
    if (res.status === 409)
      throw new AdminApiError(
        `the flows on ${this.url} changed while deploying (someone else deployed): nothing deployed, run again`,
      );
    await this.expectOk(res, 'POST flows');
    const body = (await res.json()) as { rev?: unknown };
    return typeof body.rev === 'string' ? body.rev : '';
  }

  private async json<T>(method: string, route: string, headers: Record<string, string> = {}) {
    const res = await this.request(method, route, headers);
    await this.expectOk(res, `${method} ${route}`);
    return (await res.json()) as T;
  }

  private async request(
    method: string,
    route: string,
    { body, ...headers }: Record<string, string>,
  ): Promise<Response> {
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    try {
      return await this.fetchFn(new URL(route, this.url), {
        method,
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new AdminApiError(`cannot reach ${this.url}: ${networkReason(err, this.timeoutMs)}`);
    }
  }

  private async expectOk(res: Response, what: string): Promise<void> {
    if (res.ok) return;
    const detail = await errorDetail(res);
    if (res.status === 401)
      throw new AdminApiError(`${this.url} asks for a login (${what} answered 401)`);
    if (res.status === 403)
      throw new AdminApiError(`user not allowed to ${what} on ${this.url} (403)${detail}`);
    throw new AdminApiError(`${what} on ${this.url} answered ${res.status}${detail}`);
  }
}

function adminRoot(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BadUrlError(
      `--url: ${JSON.stringify(url)} is not a URL (e.g. http://127.0.0.1:1880/)`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new BadUrlError(`--url: ${parsed.protocol} is not http: or https:`);
  // Never carry a login in the URL (it would show in process lists).
  if (parsed.username || parsed.password)
    throw new BadUrlError(
      '--url: give the user with --user and the password apart, not in the URL',
    );
  parsed.search = '';
  parsed.hash = '';
  if (!parsed.pathname.endsWith('/')) parsed.pathname += '/';
  return parsed;
}

function networkReason(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
    return `no answer within ${timeoutMs / 1000} s`;
  const cause =
    err instanceof Error ? (err.cause as { code?: string; message?: string }) : undefined;
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused (is the server running on that port?)',
    ENOTFOUND: 'no such host',
    EHOSTUNREACH: 'host unreachable',
    ECONNRESET: 'connection reset',
  };
  if (cause?.code) return reasons[cause.code] ?? cause.code;
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/** Node-RED answers errors as `{code, message}`; keep the message short. */
async function errorDetail(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { message?: unknown; code?: unknown; error?: unknown };
    const message = body.message ?? body.error ?? body.code;
    if (typeof message === 'string' && message !== '') return `: ${message.slice(0, 200)}`;
  } catch {
    // not JSON: fall through
  }
  return '';
}
