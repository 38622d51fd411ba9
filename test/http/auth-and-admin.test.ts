/** Client keys and the admin API that manages them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
const RUN = '/fal-ai/stable-diffusion-v35-medium';

beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

const admin = (path: string, init: RequestInit = {}) =>
  fetch(gw.url + path, {
    ...init,
    headers: { authorization: `Bearer ${gw.adminToken}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
  });

const generate = (key: string) =>
  fetch(gw.url + RUN, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) });

describe('admin keys API', () => {
  it('creates a key whose secret is shown once and never listed', async () => {
    const res = await admin('/admin/keys', { method: 'POST', body: JSON.stringify({ name: 'team-a', team: 'research', budget_usd: 50, rpm: 30, max_concurrency: 2 }) });
    expect(res.status).toBe(201);
    const created = (await res.json()) as Record<string, unknown>;
    expect(created).toMatchObject({ name: 'team-a', team: 'research', budget_usd: 50, rpm: 30, max_concurrency: 2, revoked_at: null });
    expect(created.key).toMatch(/^fgw_sk_[0-9A-Za-z]{32}$/);
    expect(created.id).toMatch(/^key_/);

    const list = await (await admin('/admin/keys')).text();
    const one = await (await admin(`/admin/keys/${String(created.id)}`)).text();
    for (const text of [list, one]) {
      expect(text).toContain(String(created.id));
      expect(text).not.toContain(String(created.key));
      expect(text).not.toContain('hash');
    }
  });

  it('rejects bad create bodies with 422 in fal shape', async () => {
    for (const body of [{}, { name: '' }, { name: 'x', rpm: 0 }, { name: 'x', budget_usd: -1 }, { name: 'x', extra: 1 }, { name: 'x', rpm: '30' }]) {
      const res = await admin('/admin/keys', { method: 'POST', body: JSON.stringify(body) });
      expect(res.status).toBe(422);
      expect(Array.isArray(((await res.json()) as { detail: unknown }).detail)).toBe(true);
    }
    const res = await admin('/admin/keys', { method: 'POST', body: JSON.stringify({ name: 'x', allowed_webhook_urls: ['http://insecure.example/'] }) });
    expect(res.status).toBe(400);
  });

  it('updates limits with PATCH', async () => {
    const { id } = await gw.createKey({ name: 'patch-me' });
    const res = await admin(`/admin/keys/${id}`, { method: 'PATCH', body: JSON.stringify({ rpm: 10, budget_usd: null }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ rpm: 10, budget_usd: null });
  });

  it('requires the admin token, compared exactly', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${gw.adminToken}x`, `Key ${gw.adminToken}`]) {
      const res = await fetch(`${gw.url}/admin/keys`, { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
    }
  });

  it('answers 404 for an unknown key id', async () => {
    expect((await admin('/admin/keys/key_nope')).status).toBe(404);
    expect((await admin('/admin/keys/key_nope', { method: 'DELETE' })).status).toBe(404);
  });
});

describe('client keys', () => {
  it('a revoked key stops working at once', async () => {
    const { id, key } = await gw.createKey({ name: 'short-lived' });
    expect((await generate(key)).status).toBe(200);
    const del = await admin(`/admin/keys/${id}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(((await del.json()) as { revoked_at: string | null }).revoked_at).not.toBeNull();
    gw.sim.reset();
    const res = await generate(key);
    expect(res.status).toBe(401);
    expect(gw.sim.calls()).toHaveLength(0);
  });

  it('an unknown key of the right shape gets 401', async () => {
    const res = await generate(`fgw_sk_${'A'.repeat(32)}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error_type: 'unauthorized' });
  });
});
