/**
 * Requests that reach fal and end without images, in a real browser: a job fal fails, and a job
 * the person cancels while it waits in the queue. The page shows fal's status and error, and the
 * charge it shows is the ledger's: nothing, once the gateway releases the reservation.
 * Skipped like playground-browser.test.ts when chromium is missing.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ensureWebBuild } from '../helpers/web-build.js';
import { expectNoLeak, hasChromium, launchBrowser, openPlayground, submitDirect, type PlaygroundPage } from './playground-page.js';

describe.skipIf(!hasChromium)('the playground when a job ends without images', () => {
  let gw: TestGateway;
  let browser: Browser;
  let key: string;

  beforeAll(async () => {
    await ensureWebBuild();
    gw = await startTestGateway({ simLatencyMs: 1_500, simFaults: { queueConcurrency: 1 } });
    ({ key } = await gw.createKey({ name: 'playground-user', budget_usd: 1 }));
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  async function ledgerRowShown(p: PlaygroundPage) {
    const requestId = (await p.page.locator('.ids code').textContent()) ?? '';
    return gw.stores.ledger.findByFalRequestId(requestId);
  }

  it("shows fal's error for a job that failed, and the charge is the ledger's: nothing", async () => {
    const p = await openPlayground(browser, gw.url);
    try {
      await p.signIn(key);
      await p.page.locator('.signed-in').waitFor();
      await p.generate('a fox [sim:error]', 'square');
      const box = p.page.locator('.error-box');
      await box.waitFor({ timeout: 30_000 });
      expect(await box.locator('h2').textContent()).toBe('500 runner_server_error');
      expect(await box.locator('.detail').textContent()).toContain('Internal server error in the runner');
      expect(await p.page.locator('.status-line').textContent()).toMatch(/^Completed · /);
      await expect.poll(() => box.locator('.cost').getAttribute('data-micro')).toBe('0');
      expect(await box.locator('.cost').textContent()).toBe('$0.00');
      expect(await ledgerRowShown(p)).toMatchObject({ state: 'released', settledMicro: null });
      await expectNoLeak(gw, p, key);
    } finally {
      await p.close();
    }
  }, 60_000);

  it('cancels a queued job from the keyboard: fal never runs it and nothing is charged', async () => {
    const { key: other } = await gw.createKey({ name: 'blocker' });
    const p = await openPlayground(browser, gw.url);
    try {
      await p.signIn(key);
      await p.page.locator('.signed-in').waitFor();
      for (let i = 0; i < 2; i++) expect((await submitDirect(gw, other, { prompt: `ahead ${i}`, image_size: 'square' })).status).toBe(200);
      await p.generate('never mind', 'square');
      const cancel = p.page.getByRole('button', { name: 'Cancel' });
      await cancel.waitFor({ timeout: 15_000 });
      await cancel.focus();
      await p.page.keyboard.press('Enter');
      const box = p.page.locator('.error-box');
      await box.waitFor({ timeout: 30_000 });
      expect(await p.page.locator('.status-line').textContent()).toContain('Request was cancelled');
      await expect.poll(() => box.locator('.cost').getAttribute('data-micro')).toBe('0');
      const row = await ledgerRowShown(p);
      expect(row).toMatchObject({ state: 'released' });
      const requestId = row?.falRequestId ?? '';
      expect(gw.sim.calls().some((c) => c.op === 'cancel' && c.requestId === requestId)).toBe(true);
      expect(gw.sim.stats().billedByRequest[requestId]).toBeUndefined();
    } finally {
      await p.close();
    }
  }, 60_000);
});
