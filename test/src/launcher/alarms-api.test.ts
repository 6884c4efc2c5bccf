// The alarms REST API: in process against a real book (every route, every
// error), and in the real server, where it needs the admin login and sees
// the alarms an alarm-rules node of a deployed flow raises.
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import express from 'express';
import { AlarmBook } from '../../../lib/alarms/book';
import { silentLogger } from '../../../lib/util/log';
import { openStore, Store } from '../../../lib/store/store';
import { alarmsRouter } from '../../../src/launcher/alarms-api';
import { FakeClock } from '../../support/fake-clock';
import {
  adminToken,
  deployFlows,
  SensflowProcess,
  startSensflowProcess,
  testEnv,
} from '../../support/sensflow-process';
import { sqliteSpec } from '../../lib/alarms/harness';

describe('alarms REST API (in process)', () => {
  let store: Store;
  let book: AlarmBook;
  let server: http.Server;
  let base: string;
  const clock = new FakeClock();

  before(async () => {
    store = await openStore(sqliteSpec());
    book = await AlarmBook.open(store.db, { clock });
    const app = express();
    // Stands in for Node-RED's token check: a bearer token names the user.
    const requireAdmin: express.RequestHandler = (req, res, next) => {
      const user = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!user) return void res.status(401).end();
      (req as unknown as { user: { username: string } }).user = { username: user };
      next();
    };
    app.use('/api/v1/alarms', alarmsRouter(book, requireAdmin, silentLogger));
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/api/v1/alarms`;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    await book.close();
    await store.close();
  });

  const call = async (method: string, path: string, body?: unknown, user = 'alice') => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${user}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json().catch(() => null)) as Record<string, unknown>,
    };
  };

  const raise = (subject: string, severity: 'minor' | 'major' = 'minor') =>
    book.raise({
      ruleId: 'api/hot',
      subject,
      name: 'Too hot',
      severity,
      deviceId: subject,
      customerId: 'acme',
    })!.alarm;

  it('refuses a request without the admin login', async () => {
    const res = await fetch(base);
    assert.equal(res.status, 401);
  });

  it("lists, gets, acknowledges, shelves, escalates and clears, acting as the token's user", async () => {
    const a = raise('mkr-01');
    raise('mkr-02', 'major');
    const list = await call('GET', '?severity=minor');
    assert.equal(list.status, 200);
    assert.deepEqual(
      (list.body.items as Array<{ id: string }>).map((x) => x.id),
      [a.id],
    );

    const acked = await call('POST', `/${a.id}/acknowledge`, { comment: 'seen' });
    assert.equal(acked.status, 200);
    assert.equal(acked.body.state, 'active_ack');
    assert.equal(acked.body.ackedBy, 'alice');
    assert.equal(acked.body.ackComment, 'seen');

    const shelved = await call('POST', `/${a.id}/shelve`, { duration: '1h' }, 'bob');
    assert.equal(shelved.body.shelvedUntil, clock.now() + 3_600_000);
    assert.equal(shelved.body.shelvedBy, 'bob');
    assert.equal((await call('POST', `/${a.id}/unshelve`)).body.shelvedUntil, null);

    const escalated = await call('POST', `/${a.id}/escalate`, { severity: 'critical' });
    assert.equal(escalated.body.severity, 'critical');
    assert.equal(escalated.body.state, 'active_unack');

    assert.equal(
      (await call('POST', `/${a.id}/clear`, { comment: 'fixed' })).body.state,
      'cleared_unack',
    );
    const got = await call('GET', `/${a.id}`);
    assert.equal((got.body.alarm as { state: string }).state, 'cleared_unack');
    assert.deepEqual(
      (got.body.transitions as Array<{ event: string; actor: string }>).map(
        (t) => `${t.event}:${t.actor}`,
      ),
      [
        'raise:null',
        'acknowledge:alice',
        'shelve:bob',
        'unshelve:alice',
        'escalate:alice',
        'clear:alice',
      ],
    );
    const history = await call('GET', '?state=all&customerId=acme&limit=10');
    assert.equal(history.body.total, 2);
  });

  it('answers bad requests with a JSON error and the right status, changing nothing', async () => {
    const a = raise('mkr-03');
    const cases: Array<[string, string, unknown, number, RegExp]> = [
      ['GET', '?state=bogus', undefined, 400, /state must be one of/],
      ['GET', '?limit=0', undefined, 400, /limit must be 1 to 1000/],
      ['GET', '/nope', undefined, 404, /no alarm nope/],
      ['POST', `/${a.id}/shelve`, { duration: 'soon' }, 400, /duration/],
      ['POST', `/${a.id}/escalate`, { severity: 'minor' }, 409, /not above minor/],
      ['POST', `/${a.id}/explode`, {}, 404, /no action explode/],
      ['POST', `/${a.id}/acknowledge`, '{bad json', 400, /not JSON/],
      ['POST', '/nope/clear', {}, 404, /no open alarm nope/],
    ];
    for (const [method, path, body, status, message] of cases) {
      const res = await call(method, path, body);
      assert.equal(res.status, status, `${method} ${path}`);
      assert.match(String(res.body.error), message, `${method} ${path}`);
    }
    assert.equal((await book.transitions(a.id)).length, 1);
  });
});

const API_TOKEN = 'alarms-api-token-0123456789';

describe('alarms REST API (real server)', function () {
  this.timeout(120_000);
  let sf: SensflowProcess;
  let token: string;

  before(async () => {
    sf = await startSensflowProcess({
      ...(await testEnv()),
      SENSFLOW_ADMIN_PASSWORD: 'alarms-api-password',
      SENSFLOW_API_TOKEN: API_TOKEN,
    });
    token = await adminToken(sf.url, 'admin', 'alarms-api-password');
  });
  after(async () => {
    await sf?.stop();
  });

  const api = (path: string, init: RequestInit = {}) =>
    fetch(new URL(`api/v1/alarms${path}`, sf.url), {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...init.headers,
      },
    });

  it('needs the admin login or the API token', async () => {
    assert.equal((await fetch(new URL('api/v1/alarms', sf.url))).status, 401);
    assert.equal((await api('')).status, 200);
    const withToken = await fetch(new URL('api/v1/alarms?state=all', sf.url), {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    assert.equal(withToken.status, 200);
    const wrong = await fetch(new URL('api/v1/alarms', sf.url), {
      headers: { authorization: 'Bearer not-the-token-at-all' },
    });
    assert.equal(wrong.status, 401);
  });

  it('shares /api/v1 with the registry API, and answers an unknown path with a JSON 404', async () => {
    const auth = { authorization: `Bearer ${token}` };
    assert.equal((await fetch(new URL('api/v1/devices', sf.url), { headers: auth })).status, 200);
    assert.equal((await api('')).status, 200);
    const unknown = await fetch(new URL('api/v1/nothing-here', sf.url), { headers: auth });
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { error: 'no such API endpoint' });
  });

  it('sees and acknowledges the alarm a deployed alarm-rules node raises', async () => {
    const rules = JSON.stringify({
      rules: [
        {
          name: 'hot',
          alarm: 'Too hot',
          severity: 'major',
          conditions: {
            all: [
              { fact: 'kind', operator: 'equal', value: 'temperature' },
              { fact: 'value', operator: 'greaterThan', value: 28 },
            ],
          },
        },
      ],
    });
    const flow = [
      { id: 'tab', type: 'tab', label: 'alarms' },
      { id: 'store', type: 'sensflow-registry', store: 'default' },
      {
        id: 'reading',
        type: 'inject',
        z: 'tab',
        topic: 'u4/300/temperature',
        payload: '{"value":31}',
        payloadType: 'json',
        props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }],
        wires: [['rules']],
      },
      {
        id: 'rules',
        type: 'alarm-rules',
        z: 'tab',
        registry: 'store',
        source: 'inline',
        rules,
        set: 'e2e',
        wires: [[], [], []],
      },
    ];
    await deployFlows(sf, token, flow);
    const deadline = Date.now() + 10_000;
    let items: Array<{ id: string; ruleId: string; state: string }> = [];
    while (items.length === 0 && Date.now() < deadline) {
      await fetch(new URL('inject/reading', sf.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      await new Promise((r) => setTimeout(r, 200));
      items = ((await (await api('')).json()) as { items: typeof items }).items;
    }
    assert.equal(items.length, 1, sf.output());
    assert.equal(items[0].ruleId, 'e2e/hot');
    const acked = (await (
      await api(`/${items[0].id}/acknowledge`, { method: 'POST', body: '{}' })
    ).json()) as {
      state: string;
      ackedBy: string;
    };
    assert.equal(acked.state, 'active_ack');
    assert.equal(acked.ackedBy, 'admin');
  });
});
