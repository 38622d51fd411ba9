/**
 * Thumbnails on the Requests page (real chromium): a settled queue job shows its images, loaded
 * from fal's URLs (here the simulated fal's loopback host, which the page's CSP allows); a sync run
 * shows none; no image on the page is a data: URI.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validInput } from '../helpers/gateway.js';
import { generate, hasChromium, signIn, startRig, type Rig } from './console-rig.js';

const SUBMIT = '/queue/fal-ai/stable-diffusion-v35-medium';

describe.skipIf(!hasChromium)('request thumbnails in the console', () => {
  let rig: Rig;
  let context: BrowserContext;
  let page: Page;
  let queueLedgerId = '';
  let syncLedgerId = '';

  beforeAll(async () => {
    rig = await startRig();
    const key = await rig.gw.createKey({ name: 'pictures' });
    const auth = { authorization: `Key ${key.key}`, 'content-type': 'application/json' };
    expect(await generate(rig.gw.url, key.key)).toBe(200);
    syncLedgerId = (await rig.gw.stores.ledger.page({ limit: 1 }))[0]?.id ?? '';
    const sub = (await (await fetch(`${rig.gw.url}${SUBMIT}`, { method: 'POST', headers: auth, body: JSON.stringify(validInput()) })).json()) as { request_id: string; status_url: string; response_url: string };
    for (let i = 0; i < 200; i++) {
      const s = (await (await fetch(sub.status_url, { headers: auth })).json()) as { status: string };
      if (s.status === 'COMPLETED') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await (await fetch(sub.response_url, { headers: auth })).arrayBuffer();
    const row = await rig.gw.stores.ledger.findByFalRequestId(sub.request_id);
    expect(row?.state).toBe('settled');
    queueLedgerId = row?.id ?? '';
    context = await rig.context();
    page = await context.newPage();
    await signIn(page, rig.gw.url, rig.gw.adminToken, '/console/requests');
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await rig?.close();
  });

  it("shows a settled queue job's image from fal's URL, loaded, and nothing for a sync run", async () => {
    const queueRow = page.locator(`tr[data-request-id="${queueLedgerId}"]`);
    const img = queueRow.locator('.thumbs img');
    await img.first().waitFor();
    await expect.poll(() => img.first().evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBe(512);
    const src = (await img.first().getAttribute('src')) ?? '';
    expect(src.startsWith(rig.gw.sim.runUrl) || src.startsWith('http://127.0.0.1:')).toBe(true);
    expect(await page.locator(`tr[data-request-id="${syncLedgerId}"] .thumbs img`).count()).toBe(0);
    const sources = await page.locator('img').evaluateAll((els) => els.map((e) => (e as unknown as { src: string }).src));
    expect(sources.some((s) => s.startsWith('data:'))).toBe(false);
  });
});
