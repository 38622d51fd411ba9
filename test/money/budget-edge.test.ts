/**
 * A key whose budget fits exactly 10 images gets exactly 10 of 200 concurrent requests; the rest
 * are refused with 402 (never 429) and nothing is overspent (docs/reliability.md R1).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStores } from '../../src/store/stores.js';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fgw-edge-'));
  gw = await startTestGateway({ stores: await openStores(`sqlite:${join(dir, 'gw.db')}`), simLatencyMs: 20 });
});
afterAll(() => gw.close());

const admin = (path: string) => fetch(gw.url + path, { headers: { authorization: `Bearer ${gw.adminToken}` } });

describe('budget edge (SQLite, one instance)', () => {
  it('admits exactly 10 of 200 concurrent requests at a $0.20 budget, overspend 0', async () => {
    // square_hd = 2 units per image = $0.04; 10 images fit $0.40 exactly.
    // A high rpm: this test is about the budget, not the rate limit.
    const { id, key } = await gw.createKey({ name: 'edge', budget_usd: 0.4, rpm: 100_000 });
    gw.sim.reset();
    const responses = await Promise.all(
      Array.from({ length: 200 }, () =>
        fetch(`${gw.url}/fal-ai/stable-diffusion-v35-medium`, {
          method: 'POST',
          headers: { authorization: `Key ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(validInput({ image_size: 'square_hd' })),
        }).then(async (r) => ({ status: r.status, body: await r.text(), headers: r.headers })),
      ),
    );
    const ok = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status === 402);
    expect(ok).toHaveLength(10);
    expect(refused).toHaveLength(190);
    const refusal = JSON.parse(refused[0]?.body ?? '{}') as Record<string, unknown>;
    expect(refusal).toMatchObject({ error_type: 'budget_exceeded', budget_scope: 'key', budget_period: 'lifetime', budget_usd: 0.4 });
    expect(typeof refusal.remaining_usd).toBe('number');
    expect(gw.sim.stats().calls.run).toBe(10);

    const usage = (await (await admin(`/admin/usage?key_id=${id}`)).json()) as { total_usd: number; reserved_usd: number; requests: number };
    expect(usage).toMatchObject({ total_usd: 0.4, reserved_usd: 0, requests: 10 });
    expect(gw.sim.stats().billedUnits * 0.02).toBeCloseTo(0.4, 10);
    expect(ok.at(-1)?.headers.get('x-gateway-cost-usd')).toBe('0.040000');
    expect(ok.every((r) => r.headers.get('x-gateway-megapixels') === '1.048576')).toBe(true);
  });

  it('counts team budgets and daily budgets too', async () => {
    await fetch(`${gw.url}/admin/teams/crew`, { method: 'PUT', headers: { authorization: `Bearer ${gw.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ budget_daily_usd: 0.06 }) });
    const a = await gw.createKey({ name: 'crew-a', team: 'crew' });
    const b = await gw.createKey({ name: 'crew-b', team: 'crew' });
    const go = (key: string) =>
      fetch(`${gw.url}/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) });
    const statuses = [];
    for (const k of [a.key, b.key, a.key, b.key]) {
      const r = await go(k);
      statuses.push(r.status);
      if (r.status === 402) expect(await r.json()).toMatchObject({ budget_scope: 'team', budget_period: 'day', remaining_usd: 0 });
      else await r.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 200, 402]);
  });
});
