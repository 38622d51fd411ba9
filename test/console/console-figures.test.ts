/**
 * The console's numbers are the ledger's: after a mixed run (several keys and teams, image sizes,
 * a budget refusal, a rate-limit refusal, fal failing), every figure on the overview equals what
 * GET /admin/usage answers for the same period, formatted by the page's one money function.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUsd } from '../../web/shared/money.js';
import { formatCount, formatMp, formatRate, periodStarts } from '../../web/console/format.js';
import { adminGet, generate, hasChromium, signIn, startRig, type Rig } from './console-rig.js';

interface Usage {
  total_usd: number;
  reserved_usd: number;
  megapixels: number;
  requests: number;
  images?: number;
  http_2xx?: number;
  http_402?: number;
  http_429?: number;
  http_4xx?: number;
  http_5xx?: number;
  rows: { group: string; key_id?: string; key_name?: string | null; day?: string; spent_usd: number; requests: number }[];
}

const answered = (u: Usage) => (u.http_2xx === undefined ? undefined : (u.http_2xx ?? 0) + (u.http_402 ?? 0) + (u.http_429 ?? 0) + (u.http_4xx ?? 0) + (u.http_5xx ?? 0));

describe.skipIf(!hasChromium)('every overview figure is the admin API\'s', () => {
  let rig: Rig;
  let page: Page;
  const statuses: number[] = [];

  beforeAll(async () => {
    rig = await startRig();
    const gw = rig.gw;
    const a = await gw.createKey({ name: 'alpha', team: 'design' });
    const b = await gw.createKey({ name: 'beta', team: 'research', rpm: 1 });
    const c = await gw.createKey({ name: 'gamma', budget_usd: 0.03 });
    for (const input of [{}, { image_size: 'square_hd' }, { image_size: 'landscape_16_9', num_images: 2 }]) statuses.push(await generate(gw.url, a.key, input));
    // rpm 1: the second call in the minute is refused with 429.
    statuses.push(await generate(gw.url, b.key), await generate(gw.url, b.key));
    // $0.03 budget: the second $0.02 image does not fit → 402.
    statuses.push(await generate(gw.url, c.key), await generate(gw.url, c.key));
    // fal fails the call → 5xx to the client, released in the ledger.
    statuses.push(await generate(gw.url, a.key, { prompt: 'a fox [sim:error]' }));
    const context = await rig.context();
    page = await context.newPage();
    await signIn(page, gw.url, gw.adminToken);
  }, 90_000);

  afterAll(() => rig?.close());

  it('made the mixed traffic it meant to', () => {
    expect(statuses.slice(0, 4)).toEqual([200, 200, 200, 200]);
    expect(statuses[4]).toBe(429);
    expect(statuses.slice(5, 7)).toEqual([200, 402]);
    expect(statuses[7]).toBeGreaterThanOrEqual(500);
  });

  it('shows today, this month and all time exactly as GET /admin/usage', async () => {
    const starts = periodStarts(new Date());
    const periods = { today: `?from=${starts.day}`, month: `?from=${starts.month}`, total: '' };
    await page.getByTestId('total-spend').waitFor();
    for (const [id, q] of Object.entries(periods)) {
      const u = await adminGet<Usage>(rig.gw, `/admin/usage${q}`);
      const shown = async (name: string) => page.getByTestId(`${id}-${name}`).textContent();
      expect(await shown('spend'), id).toBe(formatUsd(u.total_usd));
      expect(await shown('megapixels'), id).toBe(formatMp(u.megapixels));
      expect(await shown('requests'), id).toBe(formatCount(u.requests));
      expect(await shown('images'), id).toBe(formatCount(u.images));
      expect(await shown('rate-402'), id).toBe(formatRate(u.http_402, answered(u)));
      expect(await shown('rate-429'), id).toBe(formatRate(u.http_429, answered(u)));
      expect(await shown('rate-5xx'), id).toBe(formatRate(u.http_5xx, answered(u)));
      for (const c of ['402', '429', '5xx'] as const) expect(await shown(`rate-${c}-count`), `${id} ${c}`).toBe(`${formatCount(u[`http_${c}`])} of ${formatCount(answered(u))}`);
      expect(u.total_usd, 'the run spent something').toBeGreaterThan(0);
    }
    const total = await adminGet<Usage>(rig.gw, '/admin/usage');
    expect(await page.getByTestId('reserved').textContent()).toBe(formatUsd(total.reserved_usd));
    const open = await adminGet<{ requests: unknown[]; next_cursor: string | null }>(rig.gw, '/admin/requests?state=reserved&limit=100');
    expect(await page.getByTestId('in-flight').textContent()).toBe(`${open.requests.length}${open.next_cursor ? '+' : ''}`);
    // The mixed run shows in every class the overview reports (none of them a dash).
    for (const name of ['images', 'rate-402', 'rate-429', 'rate-5xx']) expect(await page.getByTestId(`total-${name}`).textContent(), name).toMatch(/^\d/);
    expect(await page.getByTestId('total-rate-5xx').textContent()).not.toBe('0.0%');
  });

  it('shows the top spenders of the month as GET /admin/usage?group_by=key', async () => {
    const u = await adminGet<Usage>(rig.gw, `/admin/usage?group_by=key&from=${periodStarts(new Date()).month}`);
    const expected = [...u.rows].sort((x, y) => y.spent_usd - x.spent_usd).slice(0, 5);
    const rows = page.getByTestId('top-spenders').locator('tr');
    expect(await rows.count()).toBe(expected.length);
    for (const [i, r] of expected.entries()) {
      const cells = await rows.nth(i).locator('td').allTextContents();
      expect(await rows.nth(i).getAttribute('data-key')).toBe(r.key_id ?? r.group);
      expect(cells.slice(1)).toEqual([formatUsd(r.spent_usd), formatCount(r.requests)]);
    }
  });

  it('charts each day\'s spend as GET /admin/usage per day answers it', async () => {
    await page.getByText('Chart figures').click();
    const table = page.getByTestId('chart-table');
    const perDay = await adminGet<Usage>(rig.gw, '/admin/usage?group_by=day');
    expect(perDay.rows.length).toBeGreaterThan(0);
    for (const day of perDay.rows) {
      const row = table.locator(`tr[data-bucket="${day.group}T00:00:00.000Z"]`);
      let micros = 0;
      for (const td of await row.locator('td').all()) micros += Number(await td.getAttribute('data-micro'));
      expect(micros, day.group).toBe(Math.round(day.spent_usd * 1e6));
    }
  });

  it('charts each hour stacked by team as GET /admin/usage?group_by=hour,team answers it', async () => {
    await page.getByLabel('Per').selectOption('hour');
    await page.getByLabel('Stacked by').selectOption('team');
    const table = page.getByTestId('chart-table');
    const grid = await adminGet<{ rows: { hour?: string; team?: string | null; spent_usd: number }[] }>(rig.gw, `/admin/usage?group_by=hour,team&from=${new Date(Date.now() - 48 * 3_600_000).toISOString()}`);
    expect(grid.rows.length).toBeGreaterThan(1);
    await expect.poll(() => table.locator('thead th').allTextContents()).toEqual(expect.arrayContaining(['Hour (UTC)', 'design', 'research', '(no team)']));
    const headers = await table.locator('thead th').allTextContents();
    for (const r of grid.rows) {
      const col = headers.indexOf(r.team ?? '(no team)');
      const cell = table.locator(`tr[data-bucket="${new Date(r.hour ?? '').toISOString()}"] td`).nth(col - 1);
      expect(Number(await cell.getAttribute('data-micro')), `${r.hour} ${r.team}`).toBe(Math.round(r.spent_usd * 1e6));
    }
  });

  it('shows a reservation in flight while fal is still working on it', async () => {
    const { key } = await rig.gw.createKey({ name: 'slowpoke' });
    rig.gw.sim.setFaults({ latencyMs: 4000 });
    const pending = generate(rig.gw.url, key);
    try {
      await expect.poll(async () => (await adminGet<{ requests: unknown[] }>(rig.gw, '/admin/requests?state=reserved')).requests.length).toBe(1);
      await page.getByRole('button', { name: 'Refresh' }).click();
      await expect.poll(() => page.getByTestId('in-flight').textContent()).toBe('1');
      const total = await adminGet<Usage>(rig.gw, '/admin/usage');
      expect(total.reserved_usd).toBeGreaterThan(0);
      expect(await page.getByTestId('reserved').textContent()).toBe(formatUsd(total.reserved_usd));
    } finally {
      rig.gw.sim.setFaults({ latencyMs: 5 });
      expect(await pending).toBe(200);
    }
  });
});
