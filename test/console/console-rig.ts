/**
 * What the console's browser tests share: the gateway with the simulated fal and the built pages,
 * Debian's chromium launched as test/browser/browser-token.test.ts launches it, sign-in through the
 * page as a person does it, and traffic made with a key over real HTTP.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestGateway, validInput, type TestGateway, type TestGatewayOptions } from '../helpers/gateway.js';
import { ensureWebBuild } from '../helpers/web-build.js';

export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
export const hasChromium = existsSync(CHROMIUM);
/** CI sets this so a missing browser fails the run instead of skipping the test. */
export const browserRequired = process.env.BROWSER_TEST_REQUIRED === '1';
if (!hasChromium && !browserRequired) console.warn(`[console browser test] skipped: ${CHROMIUM} not found (install it with \`apt-get install -y chromium\`)`);

export const RUN = '/fal-ai/stable-diffusion-v35-medium';
export const SCREENSHOTS = new URL('../../docs/screenshots/', import.meta.url);
export const updateScreenshots = process.env.UPDATE_SCREENSHOTS === '1';

export interface Rig {
  gw: TestGateway;
  browser: Browser;
  /** A fresh browser context (no cookies) at 1280 × 800 unless told otherwise. */
  context(viewport?: { width: number; height: number }): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function startRig(opts: TestGatewayOptions = {}): Promise<Rig> {
  await ensureWebBuild();
  const gw = await startTestGateway(opts);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  return {
    gw,
    browser,
    async context(viewport = { width: 1280, height: 800 }) {
      const c = await browser.newContext({ viewport });
      // A missing element fails in seconds with its name, not at the test's timeout.
      c.setDefaultTimeout(10_000);
      return c;
    },
    async close() {
      await browser.close();
      await gw.close();
    },
  };
}

/** Signs in through the form and waits for the console's navigation. */
export async function signIn(page: Page, gatewayUrl: string, credential: string, path = '/console'): Promise<void> {
  await page.goto(`${gatewayUrl}${path}`);
  await page.getByLabel('Admin credential').fill(credential);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Console pages' }).waitFor();
}

/** One generation through the gateway with a client key (what an app's server does); the status. */
export async function generate(gatewayUrl: string, key: string, input: Record<string, unknown> = {}): Promise<number> {
  const res = await fetch(`${gatewayUrl}${RUN}`, {
    method: 'POST',
    headers: { authorization: `Key ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(validInput(input)),
  });
  await res.arrayBuffer();
  return res.status;
}

export async function adminGet<T>(gw: TestGateway, path: string): Promise<T> {
  const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${gw.adminToken}` } });
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

export async function adminSend(gw: TestGateway, method: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${gw.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** Writes a one-viewport PNG to docs/screenshots/ when UPDATE_SCREENSHOTS=1. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!updateScreenshots) return;
  await mkdir(SCREENSHOTS, { recursive: true });
  // 1280 wide, tall enough for the overview's chart; one viewport, from the top.
  const before = page.viewportSize();
  await page.setViewportSize({ width: 1280, height: 1000 });
  await page.evaluate('window.scrollTo(0, 0)');
  await page.waitForTimeout(300);
  await page.screenshot({ path: new URL(name, SCREENSHOTS).pathname, fullPage: false });
  if (before) await page.setViewportSize(before);
}
