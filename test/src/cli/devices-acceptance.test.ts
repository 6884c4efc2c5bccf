// Acceptance, with the real `sensflow` commands and server: `sensflow devices
// add` then the credentials and config calls; the device's MQTT login may
// publish under its base topic and nowhere else; its status sets last_seen; a
// device disabled from the CLI while connected is cut off at once; the admin
// API takes a real editor token; registry users log in to the dashboard; and
// the serial number is nowhere in plain text in the home or the logs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { serviceLogin } from '../../../lib/broker/service-policy';
import { closesWithin, connectMqtt, spy } from '../../support/mqtt-access';
import { delay } from '../../support/net';
import {
  adminToken,
  runSensflow,
  SensflowProcess,
  startSensflowProcess,
  testEnv,
} from '../../support/sensflow-process';

describe('sensflow devices: acceptance on a running server', function () {
  this.timeout(90_000);
  let env: Record<string, string>;
  let sf: SensflowProcess;
  let serial: string;
  let password: string;
  const cliOutput: string[] = [];
  const clients: MqttClient[] = [];

  const cli = async (...args: string[]) => {
    const result = await runSensflow(args, env);
    cliOutput.push(result.stdout, result.stderr);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const mqttUrl = () => `mqtt://127.0.0.1:${sf.mqttPort}`;

  before(async () => {
    env = await testEnv();
    sf = await startSensflowProcess(env);
  });
  after(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await sf.stop();
  });

  it('adds a device from the CLI, printing a generated serial once', async () => {
    await cli('customers', 'add', '--id', 'acme', '--name', 'ACME');
    const out = await cli(
      ...['devices', 'add', '--id', 'mkr-01', '--type', 'mkr1000', '--customer', 'acme'],
      ...['--location', 'u4/300', '--uid', 'B8:27:EB:12:34:56', '--uid-type', 'ethernet'],
    );
    serial = /shown only this once[^\n]*\n\s+([0-9a-f]{32})/.exec(out)![1];
    const shown = await cli('devices', 'show', 'mkr-01');
    assert.ok(!shown.includes(serial));
    assert.equal(JSON.parse(shown).location, 'u4/300');
  });

  it('hands out credentials and config over HTTP to the new device at once', async () => {
    const first = await fetch(new URL('device/credentials?mac=b8:27:eb:12:34:56', sf.url));
    const body = (await first.json()) as { login: string; password: string };
    assert.equal(first.status, 200);
    assert.equal(body.login, 'mkr-01');
    password = body.password;
    const second = await fetch(new URL('device/credentials?mac=b8:27:eb:12:34:56', sf.url));
    assert.deepEqual(await second.json(), { login: 'mkr-01' });
    const auth = 'Basic ' + Buffer.from(`mkr-01:${password}`).toString('base64');
    const config = await fetch(new URL('device/config', sf.url), {
      headers: { authorization: auth },
    });
    assert.deepEqual(await config.json(), {
      mqtt: { server: '127.0.0.1', port: sf.mqttPort, base_topic: 'u4/300', login: 'mkr-01' },
      config: {},
    });
  });

  it('lets the device publish under its base topic only, and records its status', async () => {
    const secret = fs.readFileSync(path.join(sf.home, '.credential-secret'), 'utf8').trim();
    const watcher = await spy(mqttUrl(), serviceLogin(secret));
    clients.push(watcher.client);
    await assert.rejects(
      connectMqtt(mqttUrl(), { username: 'mkr-01', password: 'wrong' }),
      /Bad username|Not authorized/i,
    );
    const device = await connectMqtt(mqttUrl(), { username: 'mkr-01', password });
    clients.push(device);
    await device.publishAsync('u4/300/temperature', '{"value":21.5}', { qos: 1 });
    await device.publishAsync('u4/300/device', '{"fw":"1.4","free":2048}', { qos: 1 });
    await watcher.waitFor('u4/300/temperature {"value":21.5}');
    device.publish('u4/301/temperature', 'intruder', { qos: 1 });
    assert.equal(await closesWithin(device, 3000), true);
    assert.ok(!watcher.received.some((m) => m.includes('intruder')));
    let shown: { lastSeen: number | null; lastStatus: unknown } = {
      lastSeen: null,
      lastStatus: null,
    };
    for (let i = 0; i < 40 && shown.lastSeen === null; i++) {
      await delay(100);
      shown = JSON.parse(await cli('devices', 'show', 'mkr-01'));
    }
    assert.ok(shown.lastSeen && Date.now() - shown.lastSeen < 30_000);
    assert.deepEqual(shown.lastStatus, { fw: '1.4', free: 2048 });
  });

  it('cuts off a device disabled from the CLI while connected, and refuses it since', async () => {
    const device = await connectMqtt(mqttUrl(), { username: 'mkr-01', password });
    clients.push(device);
    await cli('devices', 'disable', 'mkr-01');
    // Counted from the disable, not from the CLI's start (slow on a busy machine).
    assert.equal(await closesWithin(device, 5000), true, 'cut off within the change-feed poll');
    await assert.rejects(
      connectMqtt(mqttUrl(), { username: 'mkr-01', password }),
      /Bad username|Not authorized/i,
    );
    const refused = await fetch(new URL('device/credentials?mac=b8:27:eb:12:34:56', sf.url));
    assert.equal(refused.status, 403);
    await cli('devices', 'enable', 'mkr-01');
  });

  it('serves the admin API to a real editor token only', async () => {
    const anonymous = await fetch(new URL('api/v1/devices', sf.url));
    assert.equal(anonymous.status, 401);
    const token = await adminToken(sf.url, 'admin', sf.password!);
    const res = await fetch(new URL('api/v1/devices', sf.url), {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200);
    const page = (await res.json()) as { total: number; items: Array<{ id: string }> };
    assert.deepEqual(
      page.items.map((d) => d.id),
      ['mkr-01'],
    );
  });

  it("puts the dashboard behind the registry users' login once one exists", async () => {
    assert.equal((await fetch(new URL('dashboard/', sf.url))).status, 200, 'open with no users');
    const result = await runSensflow(
      ['users', 'add', '--username', 'alice', '--customer', 'acme', '--password-stdin'],
      env,
      'alice password\n',
    );
    assert.equal(result.code, 0, result.stderr);
    let anonymous = 200;
    for (let i = 0; i < 80 && anonymous !== 401; i++) {
      await delay(100);
      anonymous = (await fetch(new URL('dashboard/', sf.url))).status;
    }
    assert.equal(anonymous, 401);
    const auth = 'Basic ' + Buffer.from('alice:alice password').toString('base64');
    const ok = await fetch(new URL('dashboard/', sf.url), { headers: { authorization: auth } });
    assert.equal(ok.status, 200);
  });

  it('keeps the serial number out of every file of the home and of the logs', async () => {
    const found: string[] = [];
    const scan = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) scan(file);
        else if (fs.readFileSync(file).includes(serial)) found.push(file);
      }
    };
    scan(sf.home);
    assert.deepEqual(found, []);
    assert.ok(!sf.output().includes(serial), 'not in the server log');
    const printed = cliOutput.filter((o) => o.includes(serial));
    assert.equal(printed.length, 1, 'printed once, by devices add');
  });
});
