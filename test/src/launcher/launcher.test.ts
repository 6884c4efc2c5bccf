// The real `sensflow start`, as a newcomer runs it: login required, generated
// password, our nodes and the dashboard served, operations endpoints, the
// embedded broker, clean shutdown; and clear one-line errors for bad settings.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { WebSocket } from 'ws';
import { serviceLogin } from '../../../lib/broker/service-policy';
import { freePort } from '../../support/net';
import {
  adminToken,
  runSensflow,
  SensflowProcess,
  startSensflowProcess,
  testEnv,
} from '../../support/sensflow-process';

describe('sensflow start (embedded defaults)', function () {
  this.timeout(90_000);
  let env: Record<string, string>;
  let sf: SensflowProcess;
  let token: string;

  before(async () => {
    env = await testEnv();
    sf = await startSensflowProcess(env);
  });
  after(async () => {
    if (sf.child.exitCode === null) await sf.stop();
  });

  it('prints the editor URL and a generated admin password', () => {
    assert.equal(sf.url, `http://127.0.0.1:${env.SENSFLOW_PORT}/`);
    assert.ok(sf.password && sf.password.length >= 20, 'a strong generated password');
  });

  it('keeps only a bcrypt hash of the password, and a secret only the owner reads', () => {
    const stored = fs.readFileSync(path.join(sf.home, 'admin-password.json'), 'utf8');
    assert.ok(!stored.includes(sf.password!), 'the password itself is not stored');
    assert.match(stored, /\$2[aby]\$10\$/);
    for (const file of ['admin-password.json', '.credential-secret']) {
      const mode = fs.statSync(path.join(sf.home, file)).mode & 0o777;
      assert.equal(mode, 0o600, `${file} mode ${mode.toString(8)}`);
    }
  });

  it('refuses the admin API without a login (401)', async () => {
    const res = await fetch(new URL('flows', sf.url));
    assert.equal(res.status, 401);
  });

  it('refuses a wrong password and accepts the generated one', async () => {
    await assert.rejects(adminToken(sf.url, 'admin', 'admin'), /401|403/);
    token = await adminToken(sf.url, 'admin', sf.password!);
    const res = await fetch(new URL('flows', sf.url), {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200);
  });

  it('lists our node types in the palette', async () => {
    const res = await fetch(new URL('nodes', sf.url), {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
    const sets = (await res.json()) as Array<{ module: string; types: string[]; enabled: boolean }>;
    const ours = sets.filter((s) => s.module === 'sensflow');
    const declared = Object.keys(
      (
        JSON.parse(fs.readFileSync(path.join(__dirname, '../../../package.json'), 'utf8')) as {
          'node-red': { nodes: Record<string, string> };
        }
      )['node-red'].nodes,
    );
    assert.deepEqual(
      ours
        .map((s) => s.types)
        .flat()
        .sort(),
      declared.sort(),
    );
    assert.ok(ours.every((s) => s.enabled));
    assert.ok(
      sets.some((s) => s.module === '@flowfuse/node-red-dashboard'),
      'Dashboard 2.0 is loaded',
    );
  });

  it('deploys the default flows on first start, with the broker login as an encrypted credential', async () => {
    const res = await fetch(new URL('flows', sf.url), {
      headers: { authorization: `Bearer ${token}` },
    });
    const flows = (await res.json()) as Array<{ id: string; type: string }>;
    const shipped = JSON.parse(
      fs.readFileSync(path.join(__dirname, '../../../flows/default.json'), 'utf8'),
    ) as Array<{ id: string }>;
    assert.deepEqual(flows.map((n) => n.id).sort(), shipped.map((n) => n.id).sort());
    const creds = fs.readFileSync(path.join(sf.home, 'flows_cred.json'), 'utf8');
    const secret = fs.readFileSync(path.join(sf.home, '.credential-secret'), 'utf8').trim();
    assert.ok(!creds.includes(serviceLogin(secret).password), 'the broker password is encrypted');
    await sf.waitForOutput(/Connected to broker/);
  });

  it('serves the dashboard at /dashboard', async () => {
    const res = await fetch(new URL('dashboard/', sf.url));
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<div id="app"/);
  });

  it('answers /healthz with the state of every backend', async () => {
    const res = await fetch(new URL('healthz', sf.url));
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      status: string;
      components: Record<string, { status: string; backend: string }>;
    };
    assert.equal(body.status, 'up');
    assert.deepEqual(Object.keys(body.components).sort(), ['broker', 'history', 'store']);
    assert.equal(body.components.broker.backend, 'embedded');
    assert.match(body.components.store.backend, /^sqlite:.*sensflow\.db$/);
  });

  it('answers /metrics in Prometheus format with process and backend metrics', async () => {
    const res = await fetch(new URL('metrics', sf.url));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    assert.match(text, /^process_cpu_user_seconds_total \d/m);
    assert.match(text, /^sensflow_backend_up\{component="store"\} 1$/m);
    assert.match(text, /^sensflow_info\{version="[\d.]+",instance="sensflow-1"\} 1$/m);
  });

  it("runs node with the young generation bin/sensflow's first line asks for", () => {
    // The shebang is the only place such a V8 option takes effect (not
    // NODE_OPTIONS set later, not v8.setFlagsFromString at run time).
    const args = fs.readFileSync(`/proc/${sf.child.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(args.includes('--max-semi-space-size=32'), args.join(' '));
  });

  it('runs the embedded broker: refuses anonymous clients, serves the service login on TCP and /mqtt', async () => {
    const secret = fs.readFileSync(path.join(sf.home, '.credential-secret'), 'utf8').trim();
    const login = serviceLogin(secret);
    await assert.rejects(
      mqtt.connectAsync(`mqtt://127.0.0.1:${sf.mqttPort}`, {
        reconnectPeriod: 0,
        connectTimeout: 3000,
      }),
      /Not authorized|Bad username/,
    );
    const tcp = await mqtt.connectAsync(`mqtt://127.0.0.1:${sf.mqttPort}`, {
      ...login,
      reconnectPeriod: 0,
    });
    const ws = await mqtt.connectAsync(`ws://127.0.0.1:${sf.httpPort}/mqtt`, {
      ...login,
      reconnectPeriod: 0,
    });
    const got = new Promise<string>((resolve) =>
      ws.on('message', (_t, p) => resolve(p.toString())),
    );
    await ws.subscribeAsync('u4/300/temperature');
    await tcp.publishAsync('u4/300/temperature', '{"value":21.5}');
    assert.equal(await got, '{"value":21.5}');
    await Promise.all([tcp.endAsync(), ws.endAsync()]);
  });

  it('stops cleanly on SIGTERM within 5 s, a dashboard page still open', async () => {
    // An open page holds a WebSocket, which the HTTP server no longer counts
    // as its own connection: left alone, it kept the shutdown waiting.
    const page = new WebSocket(
      new URL('dashboard/socket.io/?EIO=4&transport=websocket', sf.url.replace(/^http/, 'ws')),
    );
    await new Promise((resolve, reject) => page.once('open', resolve).once('error', reject));
    const { code, ms } = await sf.stop('SIGTERM');
    assert.equal(code, 0);
    assert.ok(ms < 5000, `took ${ms} ms`);
    assert.match(sf.output(), /Stopped flows/);
    assert.match(sf.output(), /\[info\] stopped/);
  });

  it('starts again on the same home without a new password and keeps its flows', async () => {
    const firstPassword = sf.password!;
    sf = await startSensflowProcess(env);
    assert.equal(sf.password, undefined, 'no password printed the second time');
    assert.doesNotMatch(sf.output(), /deployed the default flows/);
    await adminToken(sf.url, 'admin', firstPassword);
    const { code } = await sf.stop('SIGINT');
    assert.equal(code, 0);
  });
});

describe('sensflow admin reset-password', function () {
  this.timeout(60_000);

  it('prints a new password once, and the next start accepts it and not the old one', async () => {
    const env = await testEnv();
    let sf = await startSensflowProcess(env);
    const old = sf.password!;
    await sf.stop();
    const { code, stdout } = await runSensflow(['admin', 'reset-password'], env);
    assert.equal(code, 0);
    const fresh = /\n\s+(\S+)\n/.exec(stdout)![1];
    assert.notEqual(fresh, old);
    sf = await startSensflowProcess(env);
    try {
      await adminToken(sf.url, 'admin', fresh);
      await assert.rejects(adminToken(sf.url, 'admin', old), /401|403/);
    } finally {
      await sf.stop();
    }
  });

  it('refuses when the password comes from SENSFLOW_ADMIN_PASSWORD', async () => {
    const env = { ...(await testEnv()), SENSFLOW_ADMIN_PASSWORD: 'from the environment' };
    const { code, stderr } = await runSensflow(['admin', 'reset-password'], env);
    assert.equal(code, 2);
    assert.match(stderr, /SENSFLOW_ADMIN_PASSWORD is set/);
  });
});

describe('sensflow start (settings)', function () {
  this.timeout(60_000);

  it('uses SENSFLOW_ADMIN_PASSWORD and prints no password', async () => {
    const env = { ...(await testEnv()), SENSFLOW_ADMIN_PASSWORD: 'correct horse battery' };
    const sf = await startSensflowProcess(env);
    try {
      assert.equal(sf.password, undefined);
      assert.doesNotMatch(sf.output(), /correct horse battery/, 'the password is never printed');
      await adminToken(sf.url, 'admin', 'correct horse battery');
    } finally {
      await sf.stop();
    }
  });

  it('refuses a short admin password in one line naming the setting', async () => {
    const env = { ...(await testEnv()), SENSFLOW_ADMIN_PASSWORD: 'admin' };
    const { code, stderr, stdout } = await runSensflow(['start'], env);
    assert.equal(code, 2);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.match(stderr, /SENSFLOW_ADMIN_PASSWORD/);
    assert.doesNotMatch(stdout + stderr, /\n\s+at /, 'no stack trace');
  });

  for (const [name, value, expected] of [
    ['SENSFLOW_PORT', 'abc', /SENSFLOW_PORT: "abc" is not a port/],
    ['SENSFLOW_MQTT_PORT', '70000', /SENSFLOW_MQTT_PORT: "70000" is not a port/],
    ['SENSFLOW_MYSQL_URL', 'not a url', /SENSFLOW_MYSQL_URL/],
    ['SENSFLOW_INFLUX_URL', 'ftp://127.0.0.1/db', /SENSFLOW_INFLUX_URL: scheme "ftp"/],
    ['SENSFLOW_LOG_LEVEL', 'loud', /SENSFLOW_LOG_LEVEL/],
    [
      'SENSFLOW_HTTPS_KEY',
      '/nonexistent/key.pem',
      /SENSFLOW_HTTPS_CERT: must be set together with SENSFLOW_HTTPS_KEY/,
    ],
  ] as const) {
    it(`stops with one clear line for ${name}=${value}`, async () => {
      const env = { ...(await testEnv()), [name]: value };
      const { code, stderr } = await runSensflow(['start'], env);
      assert.equal(code, 2);
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0], /^sensflow: invalid setting /);
      assert.match(lines[0], expected);
    });
  }

  it('stops with one line when MySQL is unreachable, without its password', async () => {
    const port = await freePort();
    const env = {
      ...(await testEnv()),
      SENSFLOW_MYSQL_URL: `mysql://sensflow:hunter2@127.0.0.1:${port}/sensflow`,
    };
    const { code, stderr } = await runSensflow(['start'], env);
    assert.equal(code, 2);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.match(stderr, /cannot reach the store at mysql:\/\/sensflow:\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(stderr, /hunter2/);
  });

  it('stops with one line when the HTTP port is taken', async () => {
    const env = await testEnv();
    const blocker = (await import('node:net'))
      .createServer()
      .listen(Number(env.SENSFLOW_PORT), '127.0.0.1');
    await new Promise((resolve, reject) =>
      blocker.once('listening', resolve).once('error', reject),
    );
    try {
      const { code, stderr } = await runSensflow(['start'], env);
      assert.equal(code, 2);
      assert.match(
        stderr.trim(),
        /^sensflow: invalid setting SENSFLOW_PORT: port \d+ is already in use$/,
      );
    } finally {
      blocker.close();
    }
  });
});

describe('sensflow start (protected endpoints, HTTPS)', function () {
  this.timeout(60_000);
  const tls = path.join(__dirname, '../../fixtures/tls');

  it('puts the dashboard behind its login when SENSFLOW_DASHBOARD_USER is set', async () => {
    const env = {
      ...(await testEnv()),
      SENSFLOW_DASHBOARD_USER: 'viewer',
      SENSFLOW_DASHBOARD_PASSWORD: 'dashboard secret',
    };
    const sf = await startSensflowProcess(env);
    try {
      const anonymous = await fetch(new URL('dashboard/', sf.url));
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic/);
      const wrong = await fetch(new URL('dashboard/', sf.url), {
        headers: { authorization: 'Basic ' + Buffer.from('viewer:nope').toString('base64') },
      });
      assert.equal(wrong.status, 401);
      const auth = 'Basic ' + Buffer.from('viewer:dashboard secret').toString('base64');
      const ok = await fetch(new URL('dashboard/', sf.url), { headers: { authorization: auth } });
      assert.equal(ok.status, 200);
      // The dashboard's socket.io checks the same login.
      const sio = (query: string, authorization?: string) =>
        fetch(new URL(`dashboard/socket.io/?EIO=4&transport=polling${query}`, sf.url), {
          headers: authorization ? { authorization } : {},
        });
      const open = await sio('', auth);
      assert.equal(open.status, 200);
      const sid = /"sid":"([^"]+)"/.exec(await open.text())![1];
      const connect = await fetch(
        new URL(`dashboard/socket.io/?EIO=4&transport=polling&sid=${sid}`, sf.url),
        {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'text/plain' },
          body: '40',
        },
      );
      assert.equal(connect.status, 200);
      const answer = await (await sio(`&sid=${sid}`, auth)).text();
      assert.match(answer, /^40\{"sid"/, 'connected with the login');

      const open2 = await sio('');
      const sid2 = /"sid":"([^"]+)"/.exec(await open2.text())![1];
      await fetch(new URL(`dashboard/socket.io/?EIO=4&transport=polling&sid=${sid2}`, sf.url), {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '40',
      });
      const refused = await (await sio(`&sid=${sid2}`)).text();
      assert.match(refused, /^44\{"message":"login required"/, 'refused without it');
      // The editor keeps its own login, separate from the dashboard's.
      assert.equal(
        (await fetch(new URL('flows', sf.url), { headers: { authorization: auth } })).status,
        401,
      );
    } finally {
      await sf.stop();
    }
  });

  it('serves SENSFLOW_HTTP_STATIC at /static', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-static-'));
    fs.writeFileSync(path.join(dir, 'hello.txt'), 'static hello');
    const sf = await startSensflowProcess({ ...(await testEnv()), SENSFLOW_HTTP_STATIC: dir });
    try {
      const res = await fetch(new URL('static/hello.txt', sf.url));
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'static hello');
    } finally {
      await sf.stop();
    }
  });

  it('requires the metrics token when SENSFLOW_METRICS_TOKEN is set', async () => {
    const env = { ...(await testEnv()), SENSFLOW_METRICS_TOKEN: 'scrape-me' };
    const sf = await startSensflowProcess(env);
    try {
      assert.equal((await fetch(new URL('metrics', sf.url))).status, 401);
      const bad = await fetch(new URL('metrics', sf.url), {
        headers: { authorization: 'Bearer nope' },
      });
      assert.equal(bad.status, 401);
      const ok = await fetch(new URL('metrics', sf.url), {
        headers: { authorization: 'Bearer scrape-me' },
      });
      assert.equal(ok.status, 200);
      assert.equal((await fetch(new URL('healthz', sf.url))).status, 200, '/healthz stays open');
    } finally {
      await sf.stop();
    }
  });

  it('serves HTTPS with SENSFLOW_HTTPS_KEY and SENSFLOW_HTTPS_CERT', async () => {
    const env = {
      ...(await testEnv()),
      SENSFLOW_HTTPS_KEY: path.join(tls, 'key.pem'),
      SENSFLOW_HTTPS_CERT: path.join(tls, 'cert.pem'),
    };
    const sf = await startSensflowProcess(env);
    try {
      assert.match(sf.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
      const https = await import('node:https');
      const status = await new Promise<number>((resolve, reject) => {
        https
          .get(
            new URL('healthz', sf.url),
            { ca: fs.readFileSync(path.join(tls, 'cert.pem')) },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          )
          .on('error', reject);
      });
      assert.equal(status, 200);
    } finally {
      await sf.stop();
    }
  });
});
