/**
 * Driving /playground in a real Chromium the way a person does: type, press keys, read the screen.
 * Each `PlaygroundPage` is a fresh browser context that records every request URL and header the
 * page sent and every console message, so tests can prove what never left the page.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { MODEL_PATH } from '../../src/domain/model.js';
import type { TestGateway } from '../helpers/gateway.js';

export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

export const launchBrowser = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });

export interface SentRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
}

export interface PlaygroundPage {
  page: Page;
  context: BrowserContext;
  sent: SentRequest[];
  consoleMessages: string[];
  signIn(credential: string): Promise<void>;
  /** Fills the prompt and the size, presses Generate by keyboard. */
  generate(prompt: string, size: string): Promise<void>;
  /** Every distinct text the status line showed since sign-in (recorded in the page as it changes). */
  statusHistory(): Promise<string[]>;
  /** localStorage, sessionStorage, document.cookie and the context's cookies, as one text. */
  storedText(): Promise<string>;
  close(): Promise<void>;
}

export async function openPlayground(browser: Browser, gatewayUrl: string, width = 1280): Promise<PlaygroundPage> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  const sent: SentRequest[] = [];
  const consoleMessages: string[] = [];
  page.on('request', (r) => void r.allHeaders().then((headers) => sent.push({ url: r.url(), method: r.method(), headers })));
  page.on('console', (m) => consoleMessages.push(`${m.type()}: ${m.text()}`));
  await page.goto(`${gatewayUrl}/playground`);
  await page.getByLabel('Gateway key or browser token').waitFor();

  return {
    page,
    context,
    sent,
    consoleMessages,
    async signIn(credential) {
      const field = page.getByLabel('Gateway key or browser token');
      await field.fill(credential);
      await field.press('Enter');
      // Recorded in the page itself: a status that lasts a few frames is still seen.
      await page.evaluate(`window.statusSeen = []; new MutationObserver(() => {
        const t = document.querySelector('.status-line strong')?.parentElement?.textContent;
        if (t && window.statusSeen[window.statusSeen.length - 1] !== t) window.statusSeen.push(t);
      }).observe(document.body, { subtree: true, childList: true, characterData: true })`);
    },
    statusHistory: () => page.evaluate<string[]>('window.statusSeen'),
    async generate(prompt, size) {
      await page.locator('#f-prompt').fill(prompt);
      await page.locator('#f-image_size').selectOption(size);
      // Keyboard only from here: Tab through the form to Generate and press Enter.
      await page.locator('#f-image_size').focus();
      for (let i = 0; i < 40; i++) {
        const onButton = await page.evaluate<boolean>("document.activeElement?.textContent === 'Generate'");
        if (onButton) break;
        await page.keyboard.press('Tab');
      }
      await page.keyboard.press('Enter');
    },
    async storedText() {
      const inPage = await page.evaluate<string>('JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie })');
      return inPage + JSON.stringify(await context.cookies());
    },
    close: () => context.close(),
  };
}

export const hasChromium = existsSync(CHROMIUM);
/** CI sets this so a missing browser fails the run instead of skipping the test. */
export const required = process.env.BROWSER_TEST_REQUIRED === '1';
if (!hasChromium && !required) console.warn(`[playground browser test] skipped: ${CHROMIUM} not found (install it with \`apt-get install -y chromium\`)`);

/** A request made directly, as curl would: queue submit by default, or the sync run with MODEL_PATH. */
export const submitDirect = (gw: TestGateway, credential: string, body: Record<string, unknown>, path = `/queue${MODEL_PATH}`) =>
  fetch(`${gw.url}${path}`, { method: 'POST', headers: { authorization: `Key ${credential}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The request id and the charge the page shows, and the ledger row of that request. */
export async function shownAndLedger(gw: TestGateway, p: PlaygroundPage) {
  const requestId = (await p.page.locator('.ids code').textContent()) ?? '';
  const cost = p.page.locator('.cost');
  const shownMicro = Number(await cost.getAttribute('data-micro'));
  const row = await gw.stores.ledger.findByFalRequestId(requestId);
  return { requestId, shownMicro, shownText: (await cost.textContent()) ?? '', row };
}

/**
 * Nothing the page stored, put in a URL, logged or shows contains `secret` or FAL_KEY, nor does
 * any gateway log line contain `secret`; the credential went
 * only to the gateway (never to the image host); no CSP violation was reported.
 */
export async function expectNoLeak(gw: TestGateway, p: PlaygroundPage, secret: string): Promise<void> {
  const stored = await p.storedText();
  const urls = p.sent.map((r) => r.url).join('\n');
  const html = await p.page.content();
  const logs = gw.logs.join('\n');
  for (const s of [secret, gw.falKey]) {
    expect(stored).not.toContain(s);
    expect(urls).not.toContain(s);
    expect(html).not.toContain(s);
    expect(p.consoleMessages.join('\n')).not.toContain(s);
  }
  // Nor did the gateway write the credential into a log line.
  expect(logs).not.toContain(secret);
  for (const r of p.sent) if (r.headers.authorization !== undefined) expect(new URL(r.url).origin).toBe(gw.url);
  expect(p.sent.some((r) => Object.values(r.headers).some((v) => v.includes(gw.falKey)))).toBe(false);
  expect(p.consoleMessages.filter((m) => /Content Security Policy/i.test(m))).toEqual([]);
}
