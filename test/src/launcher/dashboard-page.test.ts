// The dashboard in a real headless Chromium: the default flow's Overview page
// renders, connects over socket.io and shows the live health of the backends.
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchChromium, screenshotPath } from '../../support/browser';
import { SensflowProcess, startSensflowProcess, testEnv } from '../../support/sensflow-process';

describe('dashboard in Chromium', function () {
  this.timeout(120_000);
  let sf: SensflowProcess;
  let browser: Browser;

  before(async () => {
    sf = await startSensflowProcess(await testEnv());
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await sf?.stop();
  });

  it('shows the Overview page with the state of every backend', async () => {
    const page = await browser.newPage();
    await page.goto(new URL('dashboard/overview', sf.url).toString());
    const table = page.locator('.sf-health table');
    await table.waitFor({ timeout: 30_000 });
    for (const name of ['store', 'broker', 'history']) {
      await page.locator('.sf-health tr', { hasText: name }).filter({ hasText: 'up' }).waitFor();
    }
    assert.equal(await page.locator('.sf-health tr').count(), 3);
    await page.screenshot({ path: screenshotPath('overview'), fullPage: true });
    await page.close();
  });
});
