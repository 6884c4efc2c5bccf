// The shipped dashboards in a real headless Chromium, on the real
// `bin/sensflow` started on an empty home with the demo on (flows/default.json
// and its simulated devices): the Fleet page turns a silent device red and
// notifies; an alarm is acknowledged; a shutter shows the state it confirmed
// (and a deaf one never shows the order as done); the console reads an EOT
// device; two dashboard users of two customers see their own devices only,
// and an action on the other's device is refused by the server; a chart shows
// history after Sensflow restarted. Each page is saved in test-results/.
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, screenshotPath } from '../../support/browser';
import { DashboardSocket } from '../../support/dashboard-socket';
import { delay, waitFor } from '../../support/net';
import {
  adminToken,
  SensflowProcess,
  startSensflowProcess,
  testEnv,
} from '../../support/sensflow-process';

const PASSWORD = 'pages-test-password';
const ALICE = { username: 'alice', password: 'alice-password' };
const BOB = { username: 'bob', password: 'bob-password-1' };

describe('dashboard pages in Chromium', function () {
  this.timeout(240_000);
  let env: Record<string, string>;
  let sf: SensflowProcess;
  let browser: Browser;
  let token: string;

  before(async () => {
    env = { ...(await testEnv()), SENSFLOW_DEMO: 'on', SENSFLOW_ADMIN_PASSWORD: PASSWORD };
    sf = await startSensflowProcess(env);
    token = await adminToken(sf.url, 'admin', PASSWORD);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await sf?.stop();
  });

  async function api(method: string, path: string, body?: unknown) {
    const res = await fetch(new URL(`api/v1/${path}`, sf.url), {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.status < 300, `${method} ${path} answered ${res.status}: ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }

  async function open(
    path: string,
    login?: { username: string; password: string },
  ): Promise<{ page: Page; context: BrowserContext }> {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 860 },
      httpCredentials: login ? { username: login.username, password: login.password } : undefined,
    });
    const page = await context.newPage();
    await page.goto(new URL(`dashboard/${path}`, sf.url).toString());
    return { page, context };
  }

  /** The whole page: the window grown to its height first (a full-page
   *  capture would resize it mid-shot and catch the menu drawer moving). */
  async function shoot(page: Page, name: string) {
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    await page.setViewportSize({ width: 1280, height: Math.min(Math.max(height, 860), 4000) });
    await delay(1200);
    await page.screenshot({ path: screenshotPath(name) });
  }

  it('Fleet: lists the devices, turns one red when it stops reporting, and notifies', async () => {
    // A device with a 6 s threshold that reports once, with its own login
    // (the page must show it online in between, even on a loaded machine).
    await api('POST', 'devices', {
      id: 'probe-1',
      type: 'esp32',
      customerId: 'demo-campus',
      location: 'u4/399',
      uidType: 'ethernet',
      uid: '02:00:00:00:99:01',
      outdatedAfterMs: 6000,
    });
    const res = await fetch(new URL('device/credentials?mac=02:00:00:00:99:01', sf.url));
    const login = (await res.json()) as { login: string; password: string };
    const { page, context } = await open('fleet');
    await page
      .locator('tr[data-device="demo-u4-300-env"][data-state="online"]')
      .waitFor({ timeout: 30_000 });
    assert.ok((await page.locator('tr.sf-row').count()) >= 17, 'every demo device is listed');
    await page.locator('tr[data-device="probe-1"][data-state="unknown"]').waitFor();

    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${sf.mqttPort}`, {
      username: login.login,
      password: login.password,
    });
    await device.publishAsync(
      'u4/399/device',
      JSON.stringify({ firmware: 'probe 1.0', free_mem: 4096 }),
    );
    await device.endAsync();
    const row = page.locator('tr[data-device="probe-1"]');
    await page
      .locator('tr[data-device="probe-1"][data-state="online"]')
      .waitFor({ timeout: 10_000 });
    // Silent for more than 6 s: red, and a notification.
    await page
      .locator('tr[data-device="probe-1"][data-state="outdated"]')
      .waitFor({ timeout: 15_000 });
    assert.equal(
      await row.evaluate((el) => getComputedStyle(el.querySelector('.sf-dot')!).backgroundColor),
      'rgb(207, 34, 46)',
    );
    await page.getByText(/Device probe-1 \(u4\/399\) is outdated/).waitFor({ timeout: 10_000 });
    await shoot(page, 'fleet');

    // A reboot order goes out and the device confirms it.
    const env1 = page.locator('tr[data-device="demo-u4-301-env"]');
    await env1.getByRole('button', { name: 'Reboot' }).click();
    await env1
      .locator('.sf-result.sf-confirmed', { hasText: 'reboot confirmed' })
      .waitFor({ timeout: 20_000 });
    await context.close();
  });

  it('Alarms: shows the active alarms by severity; one is acknowledged from the page', async () => {
    const { page, context } = await open('alarms');
    // The demo's CO2 in u4/300 climbs above 1000 ppm at once (co2 rule: 3 readings).
    const row = page.locator('tr.sf-alarm', { hasText: 'CO2 too high' });
    await row.waitFor({ timeout: 60_000 });
    assert.equal(await row.getAttribute('data-state'), 'active_unack');
    await shoot(page, 'alarms');
    await row.getByRole('button', { name: 'Acknowledge' }).click();
    await page
      .locator('tr.sf-alarm[data-state="active_ack"]', { hasText: 'CO2 too high' })
      .waitFor({ timeout: 10_000 });
    await row.getByText('acknowledged by dashboard').waitFor();
    assert.equal(await row.getByRole('button', { name: 'Acknowledge' }).count(), 0);
    const id = await row.getAttribute('data-alarm');
    const stored = await api('GET', `alarms/${id}`);
    assert.equal((stored.alarm as { state: string }).state, 'active_ack');
    await context.close();
  });

  it('Actuators: a shutter shows the state it confirmed; an unanswered order stays unconfirmed', async () => {
    // A shutter nobody simulates: its order can never be confirmed.
    await api('POST', 'devices', {
      id: 'deaf-shutter',
      type: 'demo_shutter',
      customerId: 'demo-campus',
      location: 'u4/398',
    });
    const { page, context } = await open('actuators');
    const live = page.locator('.sf-unit[data-unit="demo-u4-300-shutter"][data-kind="shutter"]');
    await live.waitFor({ timeout: 20_000 });
    await live.getByRole('button', { name: 'Down' }).click();
    await live.locator('.sf-status[data-status="closed"]').waitFor({ timeout: 15_000 });
    await live
      .locator('.sf-note', { hasText: '"down" confirmed: closed' })
      .waitFor({ timeout: 15_000 });
    await live.getByRole('button', { name: 'Up' }).click();
    await live.locator('.sf-status[data-status="open"]').waitFor({ timeout: 15_000 });

    await page.reload();
    const deaf = page.locator('.sf-unit[data-unit="deaf-shutter"]');
    await deaf.waitFor({ timeout: 20_000 });
    await deaf.getByRole('button', { name: 'Up' }).click();
    await deaf.locator('.sf-note', { hasText: 'waiting for the confirmation' }).waitFor();
    assert.equal(
      await deaf.locator('.sf-status').getAttribute('data-status'),
      '',
      'not shown as open',
    );
    await deaf.locator('.sf-note', { hasText: '"up" timeout' }).waitFor({ timeout: 40_000 });
    assert.equal(await deaf.locator('.sf-status').textContent(), 'unknown');
    await shoot(page, 'actuators');
    await context.close();
  });

  it('Device console: READ, WRITE and MSG to an EOT device, answers live', async () => {
    const { page, context } = await open('console');
    await page
      .locator('select.sf-device option[value="demo-eot-01"]')
      .waitFor({ state: 'attached', timeout: 20_000 });
    await page.locator('select.sf-device').selectOption('demo-eot-01');
    await page.getByRole('button', { name: 'Send' }).click();
    await page
      .locator('.sf-line.sf-in', { hasText: 'demo-eot-01 → SERVER READING temperature' })
      .first()
      .waitFor({ timeout: 20_000 });
    await page.locator('select.sf-type').selectOption('WRITE');
    await page.getByRole('button', { name: 'Send' }).click();
    await page
      .locator('.sf-line.sf-in', { hasText: 'ACK led | on' })
      .first()
      .waitFor({ timeout: 20_000 });
    await page.locator('select.sf-type').selectOption('MSG');
    await page.getByRole('button', { name: 'Send' }).click();
    await page
      .locator('.sf-line.sf-in', { hasText: 'ACK MSG | received hello' })
      .first()
      .waitFor({ timeout: 20_000 });
    await shoot(page, 'console');
    await context.close();
  });

  it('Home, Sensors and Overview pages show live data', async () => {
    const { page, context } = await open('home');
    const living = page.locator('.sf-card[data-room="home/living"]');
    await living.locator('.sf-temp', { hasText: /\d+\.\d/ }).waitFor({ timeout: 30_000 });
    const relay = living.locator('.sf-relay[data-relay="demo-home-living-relay"]');
    await relay.getByRole('button', { name: 'On' }).click();
    await relay.locator('.sf-state[data-status="on"]').waitFor({ timeout: 15_000 });
    await shoot(page, 'home');
    await page.goto(new URL('dashboard/sensors', sf.url).toString());
    await page.locator('.sf-range .sf-btn.sf-on').waitFor();
    await shoot(page, 'sensors');
    await page.goto(new URL('dashboard/overview', sf.url).toString());
    await page
      .locator('.sf-health tr', { hasText: 'store' })
      .filter({ hasText: 'up' })
      .waitFor({ timeout: 20_000 });
    await shoot(page, 'overview');
    await context.close();
  });

  it("per customer: each user sees their customer's devices only; acting on another's is refused", async () => {
    await api('POST', 'users', { ...ALICE, customerId: 'demo-campus', role: 'operator' });
    await api('POST', 'users', { ...BOB, customerId: 'demo-home', role: 'operator' });
    // The login turns on within a few seconds of the first user.
    await waitFor(async () => {
      const res = await fetch(new URL('dashboard/', sf.url));
      assert.equal(res.status, 401);
    }, 10_000);

    const rows = async (login: { username: string; password: string }) => {
      const { page, context } = await open('fleet', login);
      await page.locator('tr.sf-row').first().waitFor({ timeout: 20_000 });
      const ids = await page
        .locator('tr.sf-row')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-device')));
      await shoot(page, `fleet-${login.username}`);
      await context.close();
      return ids as string[];
    };
    const alices = await rows(ALICE);
    const bobs = await rows(BOB);
    assert.ok(alices.includes('demo-u4-300-env') && alices.includes('probe-1'));
    assert.ok(
      alices.every((id) => !id.startsWith('demo-home')),
      `alice sees ${alices.join(' ')}`,
    );
    assert.deepEqual(bobs.sort(), [
      'demo-home-bedroom-th',
      'demo-home-hub',
      'demo-home-kitchen-relay',
      'demo-home-kitchen-th',
      'demo-home-living-relay',
      'demo-home-living-th',
    ]);

    // What a tampered browser would send: alice orders bob's relay.
    const alice = await DashboardSocket.connect(sf.url, {
      user: ALICE.username,
      password: ALICE.password,
    });
    const bob = await DashboardSocket.connect(sf.url, {
      user: BOB.username,
      password: BOB.password,
    });
    try {
      await alice.send('sf-actuators-view', {
        topic: 'command',
        payload: { deviceId: 'demo-home-living-relay', kind: 'relay', order: 'off' },
        _client: { user: { username: 'alice', customerId: null, role: 'operator' } },
      });
      const refused = await alice.messageFor('sf-actuators-view', (m) => m.topic === 'result');
      assert.deepEqual(refused.payload, {
        id: 'demo-home-living-relay',
        kind: 'relay',
        state: 'refused',
        text: 'refused: device demo-home-living-relay belongs to another customer',
      });
      await alice.send('sf-console-view', {
        topic: 'send',
        payload: { destination: 'demo-home-hub', type: 'READ', fields: ['temperature'] },
      });
      const error = await alice.messageFor('sf-console-view', (m) => m.topic === 'error');
      assert.match(String((error.payload as { text: string }).text), /belongs to another customer/);
      await delay(3000);
      // Bob's relay got no order: it still shows the "on" it confirmed earlier.
      await bob.send('sf-home-view', { topic: 'refresh' });
      const rooms = await bob.messageFor('sf-home-view', (m) => m.topic === 'rooms');
      const living = (
        rooms.payload as Array<{ location: string; relays: Array<{ id: string; status: string }> }>
      ).find((r) => r.location === 'home/living')!;
      assert.equal(living.relays[0].status, 'on');
      // Neither browser ever heard of the other customer's things.
      const heard = (s: DashboardSocket) => s.events.map((e) => JSON.stringify(e[1] ?? null));
      assert.ok(
        heard(bob).every((t) => !t.includes('"_customer":"demo-campus"') && !t.includes('u4/')),
      );
      assert.ok(heard(alice).every((t) => !t.includes('"_customer":"demo-home"')));
      await waitFor(async () => {
        assert.ok(
          heard(bob).some((t) => t.includes('"_customer":"demo-home"')),
          'bob hears his own',
        );
      }, 15_000);
      assert.ok(heard(bob).every((t) => !t.includes('"_customer":"demo-campus"')));
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  it('Sensors: a chart shows history after Sensflow restarts', async () => {
    const { code, ms } = await sf.stop();
    assert.equal(code, 0, `exit ${code} after ${ms} ms:\n${sf.output().slice(-4000)}`);
    const restartedAt = Date.now();
    sf = await startSensflowProcess(env);
    const { page, context } = await open('sensors', ALICE);
    // The chart's refill from history, as this browser receives it.
    const refills: Array<Array<{ x: number; series: string }>> = [];
    const take = (text: string) => {
      for (const packet of text.split('\x1e')) {
        const at = packet.indexOf('["msg-input:sf-chart-temperature"');
        if (at < 0) continue;
        const [, msg] = JSON.parse(packet.slice(at)) as [
          string,
          { action?: string; payload: unknown },
        ];
        if (msg.action === 'replace' && Array.isArray(msg.payload))
          refills.push(msg.payload as Array<{ x: number; series: string }>);
      }
    };
    page.on('websocket', (ws) => ws.on('framereceived', (f) => take(String(f.payload))));
    page.on('response', (res) => {
      if (res.url().includes('socket.io') && res.request().method() === 'GET')
        res.text().then(take, () => undefined);
    });
    await page.reload();
    await waitFor(async () => assert.ok(refills.some((r) => r.length > 0)), 20_000);
    const points = refills.find((r) => r.length > 0)!;
    assert.ok(
      points.some((p) => p.x < restartedAt),
      'points from before the restart',
    );
    const series = new Set(points.map((p) => p.series));
    assert.ok(series.has('u4/300'), [...series].join(' '));
    assert.ok(![...series].some((s) => s.startsWith('home/')), "only alice's customer's series");
    await page.locator('.sf-range .sf-btn.sf-on').waitFor();
    await shoot(page, 'sensors-after-restart');
    await context.close();
  });
});
