/** Browser tokens, publishable keys and CORS, over the wire (the real-browser test is in test/browser). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

const APP = 'https://app.example.com';
const OTHER = 'https://evil.example.net';
let gw: TestGateway;
let secret: { id: string; key: string };

beforeAll(async () => {
  gw = await startTestGateway({ env: { CORS_ORIGINS: APP } });
  secret = await gw.createKey({ name: 'backend', budget_usd: 10 });
});
afterAll(() => gw.close());

async function mint(body: Record<string, unknown>, credential = secret.key) {
  const res = await fetch(`${gw.url}/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { token: string } };
}
const proxyRun = (credential: string, origin?: string) =>
  fetch(`${gw.url}/api/fal/proxy`, {
    method: 'POST',
    headers: { authorization: `Key ${credential}`, 'content-type': 'application/json', 'x-fal-target-url': 'https://fal.run/fal-ai/stable-diffusion-v35-medium', ...(origin ? { origin } : {}) },
    body: JSON.stringify(validInput()),
  });

describe('browser tokens', () => {
  it('mints a token that generates through the proxy and charges the parent key, per end user', async () => {
    const { status, body } = await mint({ expires_in: 600, max_usd: 1, end_user: 'user-42', allowed_origins: [APP] });
    expect(status).toBe(201);
    expect(body.token).toMatch(/^fgw_tk_/);
    expect(Date.parse(String(body.expires_at)) - Date.now()).toBeLessThanOrEqual(600_000);
    const res = await proxyRun(body.token, APP);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    await res.arrayBuffer();
    const usage = (await (await fetch(`${gw.url}/admin/usage?key_id=${secret.id}&group_by=end_user`, { headers: { authorization: `Bearer ${gw.adminToken}` } })).json()) as { rows: { group: string; spent_usd: number }[] };
    expect(usage.rows).toContainEqual(expect.objectContaining({ group: 'user-42', spent_usd: 0.02 }));
  });

  it('refuses expiry beyond one hour, a token minting tokens, and a token from another origin', async () => {
    expect((await mint({ expires_in: 3601 })).status).toBe(422);
    const { body } = await mint({ allowed_origins: [APP] });
    expect((await mint({}, body.token)).status).toBe(403);
    const wrong = await proxyRun(body.token, OTHER);
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get('access-control-allow-origin')).toBeNull();
    expect((await proxyRun(body.token)).status).toBe(403);
  });

  it('enforces max_usd and max_images with 402', async () => {
    const cheap = (await mint({ max_usd: 0.03 })).body.token;
    expect((await proxyRun(cheap)).status).toBe(200);
    const over = await proxyRun(cheap);
    expect(over.status).toBe(402);
    expect(await over.json()).toMatchObject({ error_type: 'budget_exceeded', budget_scope: 'token', remaining_usd: 0.01 });
    const few = (await mint({ max_images: 1 })).body.token;
    expect((await proxyRun(few)).status).toBe(200);
    const more = await proxyRun(few);
    expect(more.status).toBe(402);
    expect(await more.json()).toMatchObject({ remaining_images: 0, max_images: 1 });
  });

  it('dies with its parent key, and when it expires', async () => {
    const parent = await gw.createKey({ name: 'short' });
    const { body } = await mint({ expires_in: 10 }, parent.key);
    expect((await proxyRun(body.token)).status).toBe(200);
    await fetch(`${gw.url}/admin/keys/${parent.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${gw.adminToken}` } });
    expect((await proxyRun(body.token)).status).toBe(401);
    const forged = `${body.token.slice(0, -4)}AAAA`;
    expect((await proxyRun(forged)).status).toBe(401);
  });
});

describe('token isolation', () => {
  it("keeps two end users' requests apart; the parent key sees both", async () => {
    const alice = (await mint({ end_user: 'alice' })).body.token;
    const bob = (await mint({ end_user: 'bob' })).body.token;
    const sub = await fetch(`${gw.url}/api/fal/proxy`, {
      method: 'POST',
      headers: { authorization: `Key ${alice}`, 'content-type': 'application/json', 'x-fal-target-url': 'https://queue.fal.run/fal-ai/stable-diffusion-v35-medium' },
      body: JSON.stringify(validInput()),
    });
    const { request_id } = (await sub.json()) as { request_id: string };
    const status = (credential: string) =>
      fetch(`${gw.url}/api/fal/proxy`, { headers: { authorization: `Key ${credential}`, 'x-fal-target-url': `https://queue.fal.run/fal-ai/stable-diffusion-v35-medium/requests/${request_id}/status` } }).then((r) => r.status);
    expect(await status(bob)).toBe(404);
    expect([200, 202]).toContain(await status(alice));
    expect([200, 202]).toContain(await status(secret.key));
  });

  it('shows a token only its own usage', async () => {
    const { body } = await mint({ max_usd: 0.1, max_images: 3, end_user: 'carol' });
    expect((await proxyRun(body.token)).status).toBe(200);
    const me = (await (await fetch(`${gw.url}/v1/usage`, { headers: { authorization: `Bearer ${body.token}` } })).json()) as Record<string, unknown>;
    expect(me).toMatchObject({ end_user: 'carol', spent_usd: 0.02, max_usd: 0.1, remaining_usd: 0.08, images_used: 1, max_images: 3 });
    expect(me).not.toHaveProperty('budget_usd');
  });
});

describe('publishable keys', () => {
  it('work only from their listed origins', async () => {
    const bad = await fetch(`${gw.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${gw.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'demo', kind: 'publishable' }) });
    expect(bad.status).toBe(400);
    const pk = await gw.createKey({ name: 'demo', kind: 'publishable', allowed_origins: ['https://demo.example.org'], rpm: 5 });
    expect(pk.key).toMatch(/^fgw_pk_/);
    expect((await proxyRun(pk.key, 'https://demo.example.org')).status).toBe(200);
    expect((await proxyRun(pk.key, OTHER)).status).toBe(403);
    expect((await proxyRun(pk.key)).status).toBe(403);
    expect((await mint({}, pk.key)).status).toBe(403);
  });
});

describe('CORS', () => {
  const preflight = (origin: string) =>
    fetch(`${gw.url}/api/fal/proxy`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-fal-target-url,x-fal-queue-priority' },
    });

  it('answers preflights for listed origins with the headers fal clients send, never *', async () => {
    const res = await preflight(APP);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    const allowed = res.headers.get('access-control-allow-headers') ?? '';
    for (const h of ['authorization', 'content-type', 'x-fal-target-url', 'x-fal-queue-priority']) expect(allowed).toContain(h);
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('does not reflect an unlisted origin', async () => {
    const res = await preflight(OTHER);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const plain = await fetch(`${gw.url}/healthz`, { headers: { origin: OTHER } });
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("allows a key's own allowed_origins", async () => {
    await gw.createKey({ name: 'site', allowed_origins: ['https://site.example.io'] });
    const res = await preflight('https://site.example.io');
    expect(res.headers.get('access-control-allow-origin')).toBe('https://site.example.io');
  });
});
