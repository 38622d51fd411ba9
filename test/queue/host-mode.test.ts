/** The queue API on fal's paths, followed with plain HTTP the way curl and Python clients do. */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let key: string;
const SUBMIT = '/queue/fal-ai/stable-diffusion-v35-medium';

beforeAll(async () => {
  gw = await startTestGateway({ simLatencyMs: 150 });
  key = (await gw.createKey({ name: 'queue-user' })).key;
});
afterAll(() => gw.close());

const auth = () => ({ authorization: `Key ${key}` });
const json = () => ({ ...auth(), 'content-type': 'application/json' });

async function submit(body = validInput()) {
  const res = await fetch(gw.url + SUBMIT, { method: 'POST', headers: json(), body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown> & { request_id: string; status_url: string; response_url: string; cancel_url: string };
}

describe('queue API in host mode', () => {
  it('submits, follows the returned status_url to COMPLETED and reads the result at response_url', async () => {
    const sub = await submit();
    expect(sub.status).toBe('IN_QUEUE');
    expect(typeof sub.queue_position).toBe('number');
    for (const u of [sub.status_url, sub.response_url, sub.cancel_url]) expect(u.startsWith(gw.url)).toBe(true);
    expect(JSON.stringify(sub)).not.toContain(gw.sim.queueUrl);

    const seen = new Set<string>();
    let last: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) {
      // @fal-ai/client sends Content-Type: application/json on body-less GETs: it must be accepted.
      const res = await fetch(`${sub.status_url}?logs=1`, { headers: json() });
      last = (await res.json()) as Record<string, unknown>;
      seen.add(String(last.status));
      expect(JSON.stringify(last)).not.toContain(gw.sim.queueUrl);
      if (last.status === 'COMPLETED') {
        expect(res.status).toBe(200);
        break;
      }
      expect(res.status).toBe(202);
      if (last.status === 'IN_QUEUE') expect(typeof last.queue_position).toBe('number');
      if (last.status === 'IN_PROGRESS') expect('logs' in last).toBe(true);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(last.status).toBe('COMPLETED');
    expect('logs' in last).toBe(true);
    expect(last.status_url).toBe(sub.status_url);

    const result = await fetch(sub.response_url, { headers: json() });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-fal-request-id')).toBe(sub.request_id);
    expect(result.headers.get('x-fal-billable-units')).toBe('1');
    const out = (await result.json()) as { images: { width: number }[] };
    expect(out.images[0]?.width).toBe(512);

    // The result carries the job's settled charge, the ledger's amount (the submit's was the estimate).
    const row = await gw.stores.ledger.findByFalRequestId(sub.request_id);
    expect(row?.state).toBe('settled');
    expect(result.headers.get('x-gateway-cost-usd')).toBe(((row?.settledMicro ?? -1) / 1e6).toFixed(6));
    expect(result.headers.get('x-gateway-cost-usd')).toBe('0.020000');

    // A second fetch of a settled job reads the same charge from the row.
    const suffixed = await fetch(`${sub.response_url}/response`, { headers: auth() });
    expect(suffixed.status).toBe(200);
    expect(suffixed.headers.get('x-gateway-cost-usd')).toBe('0.020000');
    await suffixed.arrayBuffer();
  });

  it('accepts Python-style logs=true|false and refuses other values', async () => {
    const sub = await submit();
    for (const q of ['logs=true', 'logs=false', 'logs=0', '']) {
      const res = await fetch(`${sub.status_url}?${q}`, { headers: auth() });
      expect([200, 202]).toContain(res.status);
      await res.arrayBuffer();
    }
    const bad = await fetch(`${sub.status_url}?logs=maybe`, { headers: auth() });
    expect(bad.status).toBe(400);
  });

  it('relays the SSE status stream with gateway URLs, ending at COMPLETED', async () => {
    const sub = await submit();
    const res = await fetch(`${gw.url}${SUBMIT}/requests/${sub.request_id}/status/stream`, { headers: { ...auth(), accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    const events = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => JSON.parse(l.slice(5)) as Record<string, unknown>);
    expect(events.length).toBeGreaterThan(0);
    expect(events.at(-1)?.status).toBe('COMPLETED');
    for (const e of events) expect(e.status_url).toBe(sub.status_url);
    expect(text).not.toContain(gw.sim.queueUrl);
  });

  it('cancels a queued request', async () => {
    gw.sim.setFaults({ queueConcurrency: 1, latencyMs: 800 });
    try {
      await submit();
      const queued = await submit();
      const res = await fetch(queued.cancel_url, { method: 'PUT', headers: json() });
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ status: 'CANCELLATION_REQUESTED' });
    } finally {
      gw.sim.setFaults({ queueConcurrency: 2, latencyMs: 150 });
    }
  });

  it('serves the queue API on bare paths for a queue.* Host', async () => {
    const res = await request(`${gw.url}/fal-ai/stable-diffusion-v35-medium`, {
      method: 'POST',
      headers: { ...json(), host: 'queue.gateway.test' },
      body: JSON.stringify(validInput()),
    });
    expect(res.statusCode).toBe(200);
    const sub = (await res.body.json()) as { request_id: string; status_url: string };
    expect(sub.status_url).toBe(`http://queue.gateway.test/queue/fal-ai/stable-diffusion-v35-medium/requests/${sub.request_id}/status`);
    const status = await request(`${gw.url}/fal-ai/stable-diffusion-v35-medium/requests/${sub.request_id}/status`, { headers: { ...auth(), host: 'queue.gateway.test' } });
    expect([200, 202]).toContain(status.statusCode);
    expect(((await status.body.json()) as { request_id: string }).request_id).toBe(sub.request_id);
    // Without the queue. host the same bare POST is the sync run.
    const runRes = await fetch(`${gw.url}/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: json(), body: JSON.stringify(validInput()) });
    expect(runRes.status).toBe(200);
    expect(((await runRes.json()) as { images: unknown[] }).images).toHaveLength(1);
  });

  it('refuses a fal_webhook unless it falls under an https prefix registered on the key', async () => {
    const hooked = await gw.createKey({ name: 'hooks', allowed_webhook_urls: ['https://hooks.example.com/fal'] });
    const post = (k: string, webhook: string) =>
      fetch(`${gw.url}${SUBMIT}?fal_webhook=${encodeURIComponent(webhook)}`, { method: 'POST', headers: { authorization: `Key ${k}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) });
    gw.sim.reset();
    for (const [k, url] of [
      [key, 'https://hooks.example.com/fal'],
      [hooked.key, 'http://hooks.example.com/fal'],
      [hooked.key, 'https://hooks.example.com.evil.com/fal'],
      [hooked.key, 'https://hooks.example.com/falx'],
      [hooked.key, 'https://user@hooks.example.com/fal'],
      [hooked.key, 'https://hooks.example.com:8443/fal'],
      [hooked.key, 'https://hooks.example.com\\@evil.example/fal'],
      [hooked.key, 'https://hooks.example.com/fal/\tx'],
    ] as const) {
      const res = await post(k, url);
      expect(res.status, url).toBe(403);
      expect(((await res.json()) as { error_type: string }).error_type).toBe('forbidden');
    }
    expect(gw.sim.calls()).toHaveLength(0);
    const ok = await post(hooked.key, 'https://hooks.example.com/fal/done?job=1');
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    expect(gw.sim.calls().find((c) => c.op === 'submit')?.path).toContain('fal_webhook=https%3A%2F%2Fhooks.example.com%2Ffal%2Fdone%3Fjob%3D1');
  });

  it('refuses an invalid submit body with 422 and submits nothing', async () => {
    gw.sim.reset();
    const res = await fetch(gw.url + SUBMIT, { method: 'POST', headers: json(), body: JSON.stringify(validInput({ num_images: 7 })) });
    expect(res.status).toBe(422);
    expect(gw.sim.calls()).toHaveLength(0);
  });
});

describe('settlement fetches', () => {
  it("asks fal for a result once when the client fetches it right after COMPLETED, and settles from the client's fetch", async () => {
    const { key: k, id } = await gw.createKey({ name: 'once' });
    const h = { authorization: `Key ${k}`, 'content-type': 'application/json' };
    const sub = (await (await fetch(gw.url + SUBMIT, { method: 'POST', headers: h, body: JSON.stringify(validInput()) })).json()) as { request_id: string; status_url: string; response_url: string };
    let status = '';
    for (let i = 0; i < 200 && status !== 'COMPLETED'; i++) {
      status = ((await (await fetch(sub.status_url, { headers: h })).json()) as { status: string }).status;
      if (status !== 'COMPLETED') await new Promise((r) => setTimeout(r, 20));
    }
    const before = gw.sim.calls().filter((c) => c.op === 'result' && c.requestId === sub.request_id).length;
    expect(before).toBe(0);
    expect((await fetch(sub.response_url, { headers: h })).status).toBe(200);
    const usage = (await (await fetch(`${gw.url}/admin/usage?key_id=${id}`, { headers: { authorization: `Bearer ${gw.adminToken}` } })).json()) as { total_usd: number; reserved_usd: number };
    expect(usage).toMatchObject({ total_usd: 0.02, reserved_usd: 0 });
    await new Promise((r) => setTimeout(r, 2300));
    expect(gw.sim.calls().filter((c) => c.op === 'result' && c.requestId === sub.request_id)).toHaveLength(1);
  });
});
