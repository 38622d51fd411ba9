/**
 * The console's other pages as a person uses them (real chromium): a key's limits edited and its
 * secret rotated in the page, a team's budgets set, requests filtered and exported as CSV, the
 * audit trail naming the console's actions, reconciliation "not configured" on a gateway without
 * it, the pages worked by keyboard alone, and a phone-width layout without sideways scrolling.
 */
import { readFile } from 'node:fs/promises';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminGet, generate, hasChromium, signIn, startRig, type Rig } from './console-rig.js';

describe.skipIf(!hasChromium)('the console pages, by mouse and keyboard', () => {
  let rig: Rig;
  let context: BrowserContext;
  let page: Page;
  let key: { id: string; key: string };
  const cspViolations: string[] = [];

  beforeAll(async () => {
    rig = await startRig();
    key = await rig.gw.createKey({ name: 'editable', team: 'ops', policy: { allowed_image_sizes: ['square', 'square_hd'] } });
    expect(await generate(rig.gw.url, key.key)).toBe(200);
    const other = await rig.gw.createKey({ name: 'bystander' });
    expect(await generate(rig.gw.url, other.key, { image_size: 'square_hd' })).toBe(200);
    context = await rig.context();
    page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    await signIn(page, rig.gw.url, rig.gw.adminToken, '/console/keys');
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await rig?.close();
  });

  it('edits a key\'s limits, origins and policy: the API holds exactly what was typed', async () => {
    await page.getByRole('button', { name: 'Edit editable' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit key editable' });
    await dialog.getByLabel('Monthly budget (USD, UTC month)').fill('12.345678');
    await dialog.getByLabel('Requests per minute').fill('30');
    await dialog.getByLabel('Allowed browser origins (one per line)').fill('https://app.example.com');
    await dialog.getByLabel('Max images per request (1–4)').fill('2');
    await dialog.getByLabel('Require the safety checker').check();
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.waitFor({ state: 'detached' });
    const k = await adminGet<Record<string, unknown>>(rig.gw, `/admin/keys/${key.id}`);
    expect(k).toMatchObject({ budget_monthly_usd: 12.345678, rpm: 30, allowed_origins: ['https://app.example.com'], team: 'ops', budget_usd: null });
    // The sizes the form does not show are kept.
    expect(k.policy).toEqual({ allowed_image_sizes: ['square', 'square_hd'], max_num_images: 2, require_safety_checker: true });
    expect(await generate(rig.gw.url, key.key, { num_images: 3 })).not.toBe(200);
    await expect.poll(() => page.locator(`tr[data-key-id="${key.id}"] td`).nth(4).textContent()).toBe('30');
  });

  it('refuses a malformed amount in the page, before any call', async () => {
    await page.getByRole('button', { name: 'Edit editable' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit key editable' });
    await dialog.getByLabel('Lifetime budget (USD)').fill('1.0000001');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    expect(await dialog.getByRole('alert').textContent()).toContain('at most 6 decimals');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await adminGet<{ budget_usd: number | null }>(rig.gw, `/admin/keys/${key.id}`)).budget_usd).toBeNull();
  });

  it('rotates a key: the new secret is shown once and works; the old one stops (grace 0)', async () => {
    await page.getByRole('button', { name: 'Rotate editable' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate editable?' });
    await dialog.getByLabel('The old secret keeps working for (seconds)').fill('0');
    await dialog.getByRole('button', { name: 'Rotate key' }).click();
    const secret = await page.getByTestId('new-secret').inputValue();
    expect(secret).not.toBe(key.key);
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByTestId('new-secret').count()).toBe(0);
    expect(await generate(rig.gw.url, secret)).toBe(200);
    expect(await generate(rig.gw.url, key.key)).toBe(401);
    key = { ...key, key: secret };
  });

  it('sets a team\'s budgets on the Teams page', async () => {
    await page.getByRole('link', { name: 'Teams' }).click();
    await page.getByRole('button', { name: 'Edit budgets of ops' }).click();
    const dialog = page.getByRole('dialog', { name: 'Budgets of team ops' });
    await dialog.getByLabel('Daily budget (USD, UTC day)').fill('3');
    await dialog.getByRole('button', { name: 'Save budgets' }).click();
    await dialog.waitFor({ state: 'detached' });
    const row = page.locator('tr[data-team="ops"]');
    await expect.poll(() => row.textContent()).toContain('of $3.00');
    const teams = await adminGet<{ teams: { name: string; budget_daily_usd: number | null }[] }>(rig.gw, '/admin/teams');
    expect(teams.teams.find((t) => t.name === 'ops')?.budget_daily_usd).toBe(3);
  });

  it('filters requests by key and exports exactly the rows shown as CSV', async () => {
    await page.getByRole('link', { name: 'Requests' }).click();
    const rows = page.getByTestId('requests').locator('tr[data-request-id]');
    // editable: before and after its rotation (the refused old secret made no row); bystander: one.
    await expect.poll(() => rows.count()).toBe(3);
    await page.getByLabel('Key id').fill(key.id);
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => rows.count()).toBe(2);
    const api = await adminGet<{ requests: { id: string; cost_usd: number | null }[] }>(rig.gw, `/admin/requests?key_id=${key.id}`);
    const shown: (string | null)[] = [];
    for (const tr of await rows.all()) shown.push(await tr.getAttribute('data-request-id'));
    expect(shown).toEqual(api.requests.map((r) => r.id));
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Export CSV/ }).click()]);
    expect(download.suggestedFilename()).toBe('requests.csv');
    const csv = await readFile(await download.path(), 'utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toMatch(/^created_at,key_id,key_name,team,operation,state/);
    expect(lines.slice(1).map((l) => l.split(',').at(-1))).toEqual(api.requests.map((r) => r.id));
  });

  it('shows the audit trail of what the console did, and reconciliation as not configured', async () => {
    await page.getByRole('link', { name: 'Audit' }).click();
    const audit = page.getByTestId('audit');
    await expect.poll(() => audit.textContent()).toContain('key.rotate');
    expect(await audit.textContent()).toContain('team.set');
    expect(await audit.textContent()).toContain('rpm: null → 30');
    expect(await page.getByTestId('reconciliation').textContent()).toBe('Not configured on this gateway.');
  });

  it('works by keyboard alone: Tab reaches the navigation, Enter follows it, focus is visible', async () => {
    await page.goto(`${rig.gw.url}/console`);
    await page.getByTestId('total-spend').waitFor();
    let focused = '';
    for (let i = 0; i < 15 && focused !== 'Budgets'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate<string>('document.activeElement ? document.activeElement.textContent : ""');
    }
    expect(focused).toBe('Budgets');
    const outline = await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle');
    expect(outline).not.toBe('none');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Budgets', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/budgets');
  });

  it('is readable at 390 px: no page-wide sideways scrolling on any page', async () => {
    const phone = await rig.context({ width: 390, height: 844 });
    try {
      const p = await phone.newPage();
      await signIn(p, rig.gw.url, rig.gw.adminToken);
      for (const path of ['/console', '/console/budgets', '/console/keys', '/console/requests', '/console/teams', '/console/audit']) {
        await p.goto(`${rig.gw.url}${path}`);
        await p.getByRole('heading', { level: 1 }).waitFor();
        await p.waitForLoadState('networkidle');
        expect(await p.evaluate<number>('document.documentElement.scrollWidth'), path).toBeLessThanOrEqual(390);
      }
    } finally {
      await phone.close();
    }
  });

  it('says so when a report fails (here a 503 from the usage report) instead of showing zeros', async () => {
    const other = await rig.context();
    try {
      const p = await other.newPage();
      await signIn(p, rig.gw.url, rig.gw.adminToken, '/console/keys');
      // The gateway's own answer to a database outage (src/errors.ts service_unavailable), for one report.
      await p.route('**/admin/usage?*', (route) =>
        route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ detail: 'The database is not answering; try again', error_type: 'service_unavailable', request_id: 'r1' }) }),
      );
      await p.getByRole('link', { name: 'Overview' }).click();
      await expect.poll(() => p.getByRole('alert').first().textContent()).toBe('503 service_unavailable: The database is not answering; try again');
      expect(await p.getByTestId('total-spend').count()).toBe(0);
      await p.unroute('**/admin/usage?*');
      await p.getByRole('button', { name: 'Refresh' }).click();
      await p.getByTestId('total-spend').waitFor();
      expect(await p.getByRole('alert').count()).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('broke no Content-Security-Policy rule on the way', () => {
    expect(cspViolations).toEqual([]);
  });
});
