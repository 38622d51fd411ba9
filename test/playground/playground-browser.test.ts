/**
 * The playground in a real browser (Debian chromium via playwright-core, as test/browser does):
 * sign in with a key made through the admin API, generate through the gateway's queue against the
 * simulated fal, watch the queue position, status and logs stream in, see the image load and the
 * cost the ledger charged; a browser token; the phone width; and that the credential is never
 * stored, put in a URL or shown. The refusals are in playground-refusals.test.ts.
 *
 * Skipped, with a message, when /usr/bin/chromium is missing, unless BROWSER_TEST_REQUIRED=1.
 * UPDATE_SCREENSHOTS=1 writes docs/screenshots/playground.png (1280 px) from the first test.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_PATH } from '../../src/domain/model.js';
import { formatMicro } from '../../web/shared/money.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ensureWebBuild } from '../helpers/web-build.js';
import { CHROMIUM, expectNoLeak, hasChromium, launchBrowser, openPlayground, required, shownAndLedger, submitDirect } from './playground-page.js';

const SCREENSHOT = fileURLToPath(new URL('../../docs/screenshots/playground.png', import.meta.url));

it.runIf(!hasChromium && required)('has chromium to run the playground browser test (BROWSER_TEST_REQUIRED=1)', () => {
  expect.fail(`${CHROMIUM} not found: install it with \`apt-get install -y chromium\``);
});

describe.skipIf(!hasChromium)('the playground in a browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  let key: string;

  beforeAll(async () => {
    await ensureWebBuild();
    // One job runs at a time and each takes 1.5 s, so a request queued behind three others
    // shows its position moving; `exact` rounding makes the quote differ from fal's whole-MP bill.
    gw = await startTestGateway({ env: { PRICE_ROUNDING: 'exact' }, simLatencyMs: 1_500, simFaults: { queueConcurrency: 1 } });
    ({ key } = await gw.createKey({ name: 'playground-user', budget_usd: 5 }));
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('generates through the queue: position, status and logs stream in, the image loads, and the cost is the ledger row', async () => {
    const p = await openPlayground(browser, gw.url);
    try {
      await p.signIn(key);
      await expect.poll(() => p.page.locator('.signed-in').textContent()).toContain('fgw_sk_');
      // Three jobs of another key ahead: one runs, two wait, so ours starts at position 2.
      const { key: other } = await gw.createKey({ name: 'blocker' });
      for (let i = 0; i < 3; i++) expect((await submitDirect(gw, other, { prompt: `ahead ${i}`, image_size: 'square' })).status).toBe(200);
      await p.generate('a lighthouse at dusk', 'landscape_4_3');
      await p.page.locator('.result').waitFor({ timeout: 30_000 });

      // What the status line showed, in order: the position counting down, then running, then done.
      const history = await p.statusHistory();
      const positions = history.flatMap((t) => /position (\d+) in the queue/.exec(t)?.[1] ?? []).map(Number);
      expect(positions[0], history.join(' | ')).toBeGreaterThanOrEqual(1);
      expect(positions.at(-1)).toBe(0);
      expect([...positions].sort((a, b) => b - a)).toEqual(positions);
      const firstRunning = history.findIndex((t) => t.startsWith('Running'));
      expect(firstRunning).toBeGreaterThan(history.findLastIndex((t) => t.includes('in the queue')));
      expect(history.at(-1)).toMatch(/^Completed/);
      expect(await p.page.locator('.logs li').allTextContents()).toEqual([
        expect.stringContaining('Generating 1 image(s) at 1024x768') as unknown,
        expect.stringMatching(/Generation finished in/) as unknown,
      ]);

      // Keyboard focus lands on the result (Generate was disabled while the request ran).
      expect(await p.page.evaluate<string | undefined>('document.activeElement?.id')).toBe('result-title');
      const img = p.page.locator('.images img').first();
      await expect.poll(() => img.evaluate((el) => (el as unknown as { complete: boolean; naturalWidth: number }).naturalWidth * Number((el as unknown as { complete: boolean }).complete))).toBe(1024);
      expect(new URL((await img.getAttribute('src')) ?? '').origin).toBe(new URL(gw.sim.runUrl).origin);

      const { requestId, shownMicro, shownText, row } = await shownAndLedger(gw, p);
      expect(row).toMatchObject({ state: 'settled', keyId: expect.stringMatching(/^key_/) as unknown });
      // fal billed one whole megapixel ($0.02); the quote (exact rounding, 0.786 MP) said less.
      expect(shownMicro).toBe(row?.settledMicro);
      expect(shownMicro).toBe(20_000);
      expect(shownText).toContain(formatMicro(20_000));
      expect(await p.page.locator('.facts').textContent()).toContain(`Quoted at submit${formatMicro(15_729)}`);
      // The seed as fal wrote it (it may exceed 2^53, which JSON.parse would round).
      const raw = await (await fetch(`${gw.url}/queue${MODEL_PATH}/requests/${requestId}`, { headers: { authorization: `Key ${key}` } })).text();
      expect(await p.page.locator('.seed').textContent()).toBe(/"seed"\s*:\s*(\d+)/.exec(raw)?.[1]);
      for (const t of ['.t-queued', '.t-running', '.t-total']) expect(await p.page.locator(t).textContent()).toMatch(/^\d+\.\d{2} s$/);

      // The language tabs by keyboard: one tab stop, arrow keys between them.
      await p.page.getByRole('tab', { name: 'curl' }).focus();
      for (const [i, tab] of ['curl', 'JavaScript (@fal-ai/client)', 'Python (fal_client)'].entries()) {
        if (i > 0) await p.page.keyboard.press('ArrowRight');
        expect(await p.page.getByRole('tab', { name: tab }).getAttribute('aria-selected')).toBe('true');
        const code = (await p.page.locator('#snippet').textContent()) ?? '';
        expect(code).toContain('FAL_GATEWAY_KEY');
        expect(code).toContain('a lighthouse at dusk');
        expect(code).not.toContain(key);
        expect(code).not.toContain(gw.falKey);
      }
      await p.page.getByRole('tab', { name: 'curl' }).click();
      if (process.env.UPDATE_SCREENSHOTS === '1') {
        await mkdir(fileURLToPath(new URL('.', `file://${SCREENSHOT}`)), { recursive: true });
        await p.page.screenshot({ path: SCREENSHOT, fullPage: true });
      }
      await expectNoLeak(gw, p, key);
    } finally {
      await p.close();
    }
  }, 60_000);

  it("shows this job's own charge from the result's x-gateway-cost-usd while other requests of the same key are in flight", async () => {
    const { key: busy } = await gw.createKey({ name: 'busy', budget_usd: 1 });
    const p = await openPlayground(browser, gw.url);
    try {
      await p.signIn(busy);
      await p.page.locator('.signed-in').waitFor();
      // The same key's own job ahead: still reserved when ours is submitted and settled.
      expect((await submitDirect(gw, busy, { prompt: 'mine too', image_size: 'square' })).status).toBe(200);
      await p.generate('concurrent', 'square');
      await p.page.locator('.result').waitFor({ timeout: 30_000 });
      expect(await p.page.locator('.cost').textContent()).not.toContain('other requests of this credential were in flight');
      const { shownMicro, row } = await shownAndLedger(gw, p);
      expect(row?.state).toBe('settled');
      expect(shownMicro).toBe(row?.settledMicro);
    } finally {
      await p.close();
    }
  }, 60_000);

  it('works with a browser token, and its charge is the ledger row', async () => {
    const res = await fetch(`${gw.url}/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Key ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ expires_in: 600, max_usd: 0.5, end_user: 'playground-visitor' }),
    });
    expect(res.status).toBe(201);
    const { token } = (await res.json()) as { token: string };
    const p = await openPlayground(browser, gw.url);
    try {
      await p.signIn(token);
      await expect.poll(() => p.page.locator('.signed-in').textContent()).toContain('browser token');
      await p.generate('a kite over the sea', 'square');
      await p.page.locator('.result').waitFor({ timeout: 30_000 });
      const { shownMicro, row } = await shownAndLedger(gw, p);
      expect(row).toMatchObject({ state: 'settled', endUser: 'playground-visitor', settledMicro: 20_000 });
      expect(shownMicro).toBe(row?.settledMicro);
      await expectNoLeak(gw, p, token);
    } finally {
      await p.close();
    }
  }, 60_000);

  it("works with a publishable key bound to the gateway's own origin: the page's same-origin reads carry no Origin", async () => {
    const { key: publishable } = await gw.createKey({ name: 'own-page', kind: 'publishable', allowed_origins: [new URL(gw.url).origin], budget_usd: 1 });
    const p = await openPlayground(browser, gw.url);
    try {
      await p.signIn(publishable);
      await expect.poll(() => p.page.locator('.signed-in').textContent()).toContain('publishable key');
      await p.generate('a paper boat on a pond', 'square');
      await p.page.locator('.result').waitFor({ timeout: 30_000 });
      const { shownMicro, row } = await shownAndLedger(gw, p);
      expect(row).toMatchObject({ state: 'settled', settledMicro: 20_000 });
      expect(shownMicro).toBe(row?.settledMicro);
      await expectNoLeak(gw, p, publishable);
    } finally {
      await p.close();
    }
  }, 60_000);

  it('is readable at 390 px with a custom size: one column, no sideways scrolling, every control reachable', async () => {
    const p = await openPlayground(browser, gw.url, 390);
    try {
      await p.signIn(key);
      await p.page.locator('.signed-in').waitFor();
      // A custom size this time: width and height appear once "custom" is chosen.
      await p.page.locator('#f-image_size').selectOption('custom');
      await p.page.locator('#f-width').fill('640');
      await p.page.locator('#f-height').fill('448');
      await p.generate('a small screen', 'custom');
      await p.page.locator('.result').waitFor({ timeout: 30_000 });
      const img = p.page.locator('.images img').first();
      await expect.poll(() => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBe(640);
      expect(await p.page.locator('#snippet').textContent()).toContain('"image_size":{"width":640,"height":448}');
      const widths = await p.page.evaluate<{ scroll: number; client: number }>('({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })');
      expect(widths.scroll).toBeLessThanOrEqual(widths.client);
      const generate = await p.page.getByRole('button', { name: 'Generate' }).boundingBox();
      expect(generate?.width).toBeGreaterThan(200);
    } finally {
      await p.close();
    }
  }, 60_000);
});
