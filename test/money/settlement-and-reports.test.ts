/** What is charged for each outcome, and how spend shows in the reports and headers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ simLatencyMs: 30 });
});
afterAll(() => gw.close());

const adminJson = async <T>(path: string, init: RequestInit = {}) =>
  (await (await fetch(gw.url + path, { ...init, headers: { authorization: `Bearer ${gw.adminToken}`, 'content-type': 'application/json' } })).json()) as T;
interface Usage { total_usd: number; reserved_usd: number; requests: number; megapixels: number; rows: { group: string; spent_usd: number }[] }
const usageOf = (id: string) => adminJson<Usage>(`/admin/usage?key_id=${id}`);
const micro = (usd: number) => Math.round(usd * 1e6);

async function settleAll() {
  for (let i = 0; i < 50; i++) {
    await gw.app.reconciler.pass();
    const u = await adminJson<Usage>('/admin/usage');
    if (u.reserved_usd === 0) return;
    await new Promise((r) => setTimeout(r, 40));
  }
}

describe('settlement', () => {
  it('charges nothing when fal fails with a 5xx, and the billed units of a late 422', async () => {
    const { id, key } = await gw.createKey({ name: 'outcomes' });
    const run = (prompt: string) => fetch(`${gw.url}/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput({ prompt })) });
    const failed = await run('boom [sim:error]');
    expect(failed.status).toBe(500);
    expect(failed.headers.get('x-gateway-cost-usd')).toBe('0.000000');
    await failed.arrayBuffer();
    expect(await usageOf(id)).toMatchObject({ total_usd: 0, reserved_usd: 0, requests: 0 });
    const late = await run('policy [sim:422]');
    expect(late.status).toBe(422);
    await late.arrayBuffer();
    expect(micro((await usageOf(id)).total_usd)).toBe(20_000);
  });

  it('settles a queue job nobody fetches the result of, and releases a cancelled one', async () => {
    const { id, key } = await gw.createKey({ name: 'queue-money' });
    const h = { authorization: `Key ${key}`, 'content-type': 'application/json' };
    gw.sim.setFaults({ queueConcurrency: 1, latencyMs: 1500 });
    try {
      const a = (await (await fetch(`${gw.url}/queue/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: h, body: JSON.stringify(validInput({ num_images: 2 })) })).json()) as { status_url: string };
      const b = (await (await fetch(`${gw.url}/queue/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: h, body: JSON.stringify(validInput()) })).json()) as { cancel_url: string };
      expect((await usageOf(id)).reserved_usd).toBe(0.06);
      expect((await fetch(b.cancel_url, { method: 'PUT', headers: h })).status).toBe(202);
      await settleAll();
      const u = await usageOf(id);
      expect(u).toMatchObject({ reserved_usd: 0, requests: 1 });
      expect(micro(u.total_usd)).toBe(40_000);
      void a;
    } finally {
      gw.sim.setFaults({ queueConcurrency: 2, latencyMs: 30 });
    }
  });
});

describe('reports', () => {
  it('GET /v1/usage shows a key its own spend and budgets; generation headers carry cost and remaining', async () => {
    const { key } = await gw.createKey({ name: 'self', budget_usd: 1, budget_monthly_usd: 0.5 });
    const res = await fetch(`${gw.url}/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput({ num_images: 3 })) });
    expect(res.headers.get('x-gateway-cost-usd')).toBe('0.060000');
    expect(res.headers.get('x-gateway-megapixels')).toBe('0.786432');
    expect(res.headers.get('x-gateway-budget-remaining-usd')).toBe('0.440000');
    await res.arrayBuffer();
    const me = (await (await fetch(`${gw.url}/v1/usage`, { headers: { authorization: `Key ${key}` } })).json()) as Record<string, unknown>;
    expect(me).toMatchObject({ spent_usd: 0.06, reserved_usd: 0, budget_usd: 1, remaining_usd: 0.94, month: { spent_usd: 0.06, budget_usd: 0.5, remaining_usd: 0.44 } });
    expect((await fetch(`${gw.url}/v1/usage`)).status).toBe(401);
  });

  it('PATCH /admin/keys/:id budgets take effect at once', async () => {
    const { id, key } = await gw.createKey({ name: 'patched' });
    await adminJson(`/admin/keys/${id}`, { method: 'PATCH', body: JSON.stringify({ budget_usd: 0.01 }) });
    const res = await fetch(`${gw.url}/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) });
    expect(res.status).toBe(402);
    expect(await res.json()).toMatchObject({ error_type: 'budget_exceeded', remaining_usd: 0.01, cost_usd: 0.02 });
  });

  it('groups /admin/usage by day and by key, and exports CSV', async () => {
    await settleAll();
    const byKey = await adminJson<Usage>('/admin/usage?group_by=key');
    expect(byKey.rows.length).toBeGreaterThan(1);
    expect(micro(byKey.rows.reduce((s, r) => s + r.spent_usd, 0))).toBe(micro(byKey.total_usd));
    const today = new Date().toISOString().slice(0, 10);
    const byDay = await adminJson<Usage>(`/admin/usage?group_by=day&from=${today}`);
    expect(byDay.rows.map((r) => r.group)).toEqual([today]);
    const csv = await (await fetch(`${gw.url}/admin/usage?group_by=key&format=csv`, { headers: { authorization: `Bearer ${gw.adminToken}` } })).text();
    expect(csv.split('\n')[0]).toMatch(/^group,requests,spent_usd,reserved_usd,megapixels,billed_units,/); // later columns are added at the end
    expect(csv.trim().split('\n')).toHaveLength(byKey.rows.length + 1);
    const bad = await fetch(`${gw.url}/admin/usage?from=yesterday`, { headers: { authorization: `Bearer ${gw.adminToken}` } });
    expect(bad.status).toBe(400);
  });
});
