/**
 * The playground's refusals in a real browser, each with fal's detail on screen and nothing sent to
 * fal: 402 once a budget is spent, 429 past the key's rate, 401 for a wrong key, a fal key refused
 * before it is sent, a publishable key bound to other origins refused at sign-in, 422 next to its field.
 * Skipped like playground-browser.test.ts when chromium is missing.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_PATH } from '../../src/domain/model.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ensureWebBuild } from '../helpers/web-build.js';
import { expectNoLeak, hasChromium, launchBrowser, openPlayground, submitDirect } from './playground-page.js';

describe.skipIf(!hasChromium)('the playground shows refusals', () => {
  let gw: TestGateway;
  let browser: Browser;
  let key: string;

  beforeAll(async () => {
    await ensureWebBuild();
    gw = await startTestGateway();
    ({ key } = await gw.createKey({ name: 'playground-user' }));
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it("shows fal's detail for the 402 once the key's budget is spent, and sends nothing to fal", async () => {
    const { key: small } = await gw.createKey({ name: 'one-image', budget_usd: 0.02 });
    expect((await submitDirect(gw, small, { prompt: 'spend it', image_size: 'square' }, MODEL_PATH)).status).toBe(200);
    const refusal = (await (await submitDirect(gw, small, { prompt: 'again', image_size: 'square' })).json()) as { detail: string; error_type: string };
    expect(refusal.error_type).toBe('budget_exceeded');

    const p = await openPlayground(browser, gw.url);
    try {
      await p.signIn(small);
      await p.page.locator('.signed-in').waitFor();
      const before = gw.sim.calls().length;
      await p.generate('again', 'square');
      const box = p.page.getByRole('alert');
      await expect.poll(() => box.textContent()).toContain('402 budget_exceeded');
      expect(await box.locator('.detail').textContent()).toBe(refusal.detail);
      expect(await p.page.evaluate<string | undefined>('document.activeElement?.textContent')).toBe('402 budget_exceeded');
      expect(gw.sim.calls().length).toBe(before);
      await expectNoLeak(gw, p, small);
    } finally {
      await p.close();
    }
  }, 30_000);

  it("shows the 429 with fal's detail and its Retry-After once the key's rate is used up", async () => {
    const { key: slow } = await gw.createKey({ name: 'one-per-minute', rpm: 1 });
    expect((await submitDirect(gw, slow, { prompt: 'first', image_size: 'square' })).status).toBe(200);
    const p = await openPlayground(browser, gw.url);
    try {
      await p.signIn(slow);
      await p.page.locator('.signed-in').waitFor();
      await p.generate('second', 'square');
      const box = p.page.locator('.error-box');
      await expect.poll(() => box.locator('h2').textContent()).toBe('429 rate_limited');
      expect(await box.textContent()).toMatch(/Retry after \d+ s\./);
      expect(await box.locator('.detail').textContent()).not.toBe('');
      await expectNoLeak(gw, p, slow);
    } finally {
      await p.close();
    }
  }, 30_000);

  it('shows 401 for a wrong key, and refuses a pasted fal key before sending it anywhere', async () => {
    const p = await openPlayground(browser, gw.url);
    try {
      const wrong = `fgw_sk_${'x'.repeat(32)}`;
      await p.signIn(wrong);
      await expect.poll(() => p.page.locator('#sign-in-error').textContent()).toMatch(/^401 unauthorized: \S/);
      expect(await p.page.locator('.signed-in').count()).toBe(0);

      const sentBefore = p.sent.length;
      await p.signIn(gw.falKey);
      await expect.poll(() => p.page.locator('#sign-in-error').textContent()).toContain('Never your fal key');
      expect(p.sent.length).toBe(sentBefore);
      await p.page.getByLabel('Gateway key or browser token').fill('');
      await expectNoLeak(gw, p, wrong);
    } finally {
      await p.close();
    }
  }, 30_000);

  it('refuses a publishable key bound to other origins at sign-in, saying why, before anything is paid for', async () => {
    const { key: publishable } = await gw.createKey({ name: 'other-page', kind: 'publishable', allowed_origins: ['https://app.example.com'] });
    const p = await openPlayground(browser, gw.url);
    try {
      const before = gw.sim.calls().length;
      await p.signIn(publishable);
      await expect.poll(() => p.page.locator('#sign-in-error').textContent()).toMatch(/^403 forbidden: .*must include this gateway's own origin/);
      expect(await p.page.locator('.signed-in').count()).toBe(0);
      expect(await p.page.getByRole('button', { name: 'Generate' }).isDisabled()).toBe(true);
      expect(gw.sim.calls().length).toBe(before);
      await expectNoLeak(gw, p, publishable);
    } finally {
      await p.close();
    }
  }, 30_000);

  it("shows the gateway's 422 next to the field it names, before anything reaches fal", async () => {
    const p = await openPlayground(browser, gw.url);
    try {
      await p.signIn(key);
      await p.page.locator('.signed-in').waitFor();
      await p.page.locator('#f-num_inference_steps').fill('60');
      const before = gw.sim.calls().length;
      await p.generate('too many steps', 'square');
      await expect.poll(() => p.page.locator('.error-box h2').textContent()).toBe('422');
      expect(await p.page.locator('.field.invalid .field-error').textContent()).toMatch(/50/);
      expect(await p.page.locator('.field.invalid label code').textContent()).toBe('num_inference_steps');
      expect(gw.sim.calls().length).toBe(before);
    } finally {
      await p.close();
    }
  }, 30_000);
});
