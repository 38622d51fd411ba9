/**
 * Smaller defects of issue #9 item 12, over the wire: deep JSON, long browser tokens, team names,
 * webhook prefixes with a query, a client that disconnects mid-run, and the 502 for a refused FAL_KEY.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

const RUN = '/fal-ai/stable-diffusion-v35-medium';

describe('bad input and small defects', () => {
  let gw: TestGateway;
  let key = '';
  beforeAll(async () => {
    gw = await startTestGateway({ simLatencyMs: 5 });
    key = (await gw.createKey({ name: 'small' })).key;
  });
  afterAll(async () => gw?.close());

  const json = (k: string) => ({ authorization: `Key ${k}`, 'content-type': 'application/json' });

  it('answers 400 bad_request (not 500) for JSON nested 5,000 deep, in a field or as a whole value', async () => {
    for (const body of [
      `{"prompt":"x","image_size":"square","extra":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      `{"prompt":"x","image_size":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`,
    ]) {
      const res = await gw.app.inject({ method: 'POST', url: RUN, headers: json(key), payload: body });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error_type: 'bad_request', detail: expect.stringMatching(/deeper than 64/) as unknown });
    }
    // Brackets inside strings are not nesting.
    const ok = await gw.app.inject({ method: 'POST', url: RUN, headers: json(key), payload: JSON.stringify(validInput({ prompt: '['.repeat(5000) })) });
    expect(ok.statusCode).toBe(200);
    expect(gw.sim.calls().length).toBeGreaterThan(0);
  });

  it('accepts every browser token it mints, however long, and refuses to mint one past the credential limit', async () => {
    const origins = Array.from({ length: 5 }, (_, i) => `https://app-${i}-${'x'.repeat(120)}.example.com`);
    const mint = await fetch(`${gw.url}/v1/tokens`, { method: 'POST', headers: json(key), body: JSON.stringify({ allowed_origins: origins, end_user: 'u'.repeat(128) }) });
    expect(mint.status).toBe(201);
    const { token } = (await mint.json()) as { token: string };
    expect(token.length).toBeGreaterThan(512);
    const use = await fetch(`${gw.url}/v1/usage`, { headers: { authorization: `Bearer ${token}`, origin: origins[0] ?? '' } });
    expect(use.status).toBe(200);
    expect(((await use.json()) as { end_user: string }).end_user).toBe('u'.repeat(128));

    const huge = Array.from({ length: 20 }, (_, i) => `https://app-${i}-${'y'.repeat(170)}.example.com`);
    const refused = await fetch(`${gw.url}/v1/tokens`, { method: 'POST', headers: json(key), body: JSON.stringify({ allowed_origins: huge }) });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error_type: string }).error_type).toBe('bad_request');
  });

  it('gives keys only team names that PUT /admin/teams/:name accepts', async () => {
    const admin = { authorization: `Bearer ${gw.adminToken}`, 'content-type': 'application/json' };
    const bad = await fetch(`${gw.url}/admin/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'k', team: 'team with spaces/and slash' }) });
    expect(bad.status).toBe(422);
    const good = await fetch(`${gw.url}/admin/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'k', team: 'growth.eu-1' }) });
    expect(good.status).toBe(201);
    const team = await fetch(`${gw.url}/admin/teams/growth.eu-1`, { method: 'PUT', headers: admin, body: JSON.stringify({ budget_usd: 5 }) });
    expect(team.status).toBe(200);
  });

  it("holds a webhook to the query of the registered prefix when it has one", async () => {
    const hooked = await gw.createKey({ name: 'hooks', allowed_webhook_urls: ['https://hooks.example.com/fal?tenant=a'] });
    const submit = (webhook: string) =>
      fetch(`${gw.url}/queue${RUN}?fal_webhook=${encodeURIComponent(webhook)}`, { method: 'POST', headers: json(hooked.key), body: JSON.stringify(validInput()) });
    for (const webhook of ['https://hooks.example.com/fal?tenant=b', 'https://hooks.example.com/fal', 'https://hooks.example.com/fal/x?tenant=a&x=1']) {
      const res = await submit(webhook);
      expect(res.status, webhook).toBe(403);
      await res.arrayBuffer();
    }
    const ok = await submit('https://hooks.example.com/fal/done?tenant=a');
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
  });

  it('logs one request line, and no unhandled error, when the client disconnects mid-run', async () => {
    gw.sim.setFaults({ latencyMs: 800 });
    try {
      const ac = new AbortController();
      const sent = fetch(`${gw.url}${RUN}`, { method: 'POST', signal: ac.signal, headers: json(key), body: JSON.stringify(validInput()) });
      setTimeout(() => ac.abort(), 200);
      await sent.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      gw.sim.setFaults({ latencyMs: 5 });
    }
    const lines = gw.logs.map((l) => JSON.parse(l) as { msg: string; path?: string; aborted?: boolean; status?: number; level: number });
    const runLines = lines.filter((l) => l.msg.startsWith('request') && l.path === RUN && l.aborted === true);
    expect(runLines).toHaveLength(1);
    expect(runLines[0]?.status).toBe(499);
    expect(lines.filter((l) => l.msg === 'unhandled error')).toHaveLength(0);
  });
});

describe('fal refusing FAL_KEY', () => {
  let fake: Server;
  let gw: TestGateway;
  beforeAll(async () => {
    fake = createServer((_req, res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"detail":"bad key"}'));
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const a = fake.address();
    const base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    gw = await startTestGateway({ upstreamUrls: { run: base, queue: base } });
  });
  afterAll(async () => {
    await gw?.close();
    await new Promise((r) => fake.close(r));
  });

  it('answers 502 upstream_auth_failed without claiming that anyone was notified', async () => {
    const { key } = await gw.createKey();
    const res = await fetch(`${gw.url}${RUN}`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error_type: string; detail: string };
    expect(body.error_type).toBe('upstream_auth_failed');
    expect(body.detail).not.toMatch(/notified/i);
    expect(body.detail).toMatch(/FAL_KEY/);
  });
});
