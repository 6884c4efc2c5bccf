// The admin API client's requests and its one-sentence failures, on a fake
// fetch: the login form, the v2 flows calls with their revision, a deploy
// overtaken by another (409), and network errors.
import assert from 'node:assert/strict';
import { AdminApi, AdminApiError, BadUrlError } from '../../../lib/flows/admin-api';

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

function fakeFetch(answer: (call: Call) => Response | Error) {
  const calls: Call[] = [];
  const fetchFn = (async (input: URL, init: RequestInit) => {
    const call = {
      method: init.method ?? 'GET',
      url: String(input),
      headers: init.headers as Record<string, string>,
      body: init.body as string | undefined,
    };
    calls.push(call);
    const result = answer(call);
    if (result instanceof Error) throw result;
    return result;
  }) as typeof fetch;
  return { calls, fetchFn };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('admin API client', () => {
  it('logs in with the password grant and then sends the token', async () => {
    const { calls, fetchFn } = fakeFetch((call) =>
      call.url.endsWith('/auth/token')
        ? json({ access_token: 'tok', expires_in: 100, token_type: 'Bearer' })
        : json([]),
    );
    const api = new AdminApi('http://127.0.0.1:1880/admin', { fetch: fetchFn });
    await api.login('admin', 'pw&=x');
    await api.nodeSets();
    assert.equal(calls[0].url, 'http://127.0.0.1:1880/admin/auth/token');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(calls[0].body)), {
      client_id: 'node-red-admin',
      grant_type: 'password',
      scope: '*',
      username: 'admin',
      password: 'pw&=x',
    });
    assert.equal(calls[1].url, 'http://127.0.0.1:1880/admin/nodes');
    assert.equal(calls[1].headers.authorization, 'Bearer tok');
  });

  it('says the login was refused, naming the user', async () => {
    const { fetchFn } = fakeFetch(() => json({ error: 'unauthorized' }, 401));
    const api = new AdminApi('http://h:1/', { fetch: fetchFn });
    await assert.rejects(api.login('bob', 'x'), {
      name: 'AdminApiError',
      message: 'http://h:1/ refused the login of "bob": wrong user or password',
    });
  });

  it('reads and posts flows with the v2 API, the revision and the deployment type', async () => {
    const { calls, fetchFn } = fakeFetch((call) =>
      call.method === 'GET' ? json({ rev: 'r1', flows: [] }) : json({ rev: 'r2' }),
    );
    const api = new AdminApi('http://h:1/', { fetch: fetchFn });
    const { rev } = await api.flows();
    assert.equal(await api.deploy([{ id: 't', type: 'tab' }], rev, 'nodes'), 'r2');
    assert.equal(calls[0].headers['node-red-api-version'], 'v2');
    assert.equal(calls[1].headers['node-red-deployment-type'], 'nodes');
    assert.deepEqual(JSON.parse(calls[1].body!), { rev: 'r1', flows: [{ id: 't', type: 'tab' }] });
  });

  it('says nothing was deployed when someone else deployed meanwhile (409)', async () => {
    const { fetchFn } = fakeFetch(() => json({ code: 'version_mismatch' }, 409));
    const api = new AdminApi('http://h:1/', { fetch: fetchFn });
    await assert.rejects(
      api.deploy([], 'old', 'full'),
      /changed while deploying .*nothing deployed/,
    );
  });

  it('turns other answers and network errors into one sentence', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    const down = new AdminApi('http://h:1/', { fetch: fakeFetch(() => refused).fetchFn });
    await assert.rejects(down.flows(), {
      message: 'cannot reach http://h:1/: connection refused (is the server running on that port?)',
    });
    const failing = new AdminApi('http://h:1/', {
      fetch: fakeFetch(() => json({ code: 'unexpected_error', message: 'boom' }, 500)).fetchFn,
    });
    await assert.rejects(failing.nodeSets(), {
      message: 'GET nodes on http://h:1/ answered 500: boom',
    });
    const odd = new AdminApi('http://h:1/', { fetch: fakeFetch(() => json({})).fetchFn });
    await assert.rejects(odd.flows(), AdminApiError);
  });

  it('refuses URLs that are not http(s) or carry a login', () => {
    assert.throws(() => new AdminApi('localhost:1880'), BadUrlError);
    assert.throws(() => new AdminApi('ftp://h/'), BadUrlError);
    assert.throws(() => new AdminApi('http://u:p@h/'), /not in the URL/);
  });
});
