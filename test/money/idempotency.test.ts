/** Idempotency-Key: the same key and body replays the first outcome, without a second call or charge. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let key: string;
let keyId: string;
beforeAll(async () => {
  gw = await startTestGateway();
  ({ key, id: keyId } = await gw.createKey({ name: 'idem' }));
});
afterAll(() => gw.close());

const post = (path: string, body: unknown, idem?: string) =>
  fetch(gw.url + path, {
    method: 'POST',
    headers: { authorization: `Key ${key}`, 'content-type': 'application/json', ...(idem ? { 'idempotency-key': idem } : {}) },
    body: JSON.stringify(body),
  });
const spent = async () =>
  ((await (await fetch(`${gw.url}/admin/usage?key_id=${keyId}`, { headers: { authorization: `Bearer ${gw.adminToken}` } })).json()) as { total_usd: number; reserved_usd: number; requests: number });

describe('Idempotency-Key', () => {
  it('replays a sync run byte for byte with one upstream call and one charge', async () => {
    gw.sim.reset();
    const before = await spent();
    const first = await post('/fal-ai/stable-diffusion-v35-medium', validInput({ seed: 5 }), 'run-1');
    const firstBody = await first.text();
    const second = await post('/fal-ai/stable-diffusion-v35-medium', validInput({ seed: 5 }), 'run-1');
    expect(second.status).toBe(first.status);
    expect(await second.text()).toBe(firstBody);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.headers.get('x-fal-request-id')).toBe(first.headers.get('x-fal-request-id'));
    expect(gw.sim.stats().calls.run).toBe(1);
    const after = await spent();
    expect(after.requests - before.requests).toBe(1);
    expect(Math.round((after.total_usd - before.total_usd) * 1e6)).toBe(20_000);
  });

  it('returns the same queue handle for a repeated submit', async () => {
    gw.sim.reset();
    const a = (await (await post('/queue/fal-ai/stable-diffusion-v35-medium', validInput(), 'sub-1')).json()) as { request_id: string };
    const b = (await (await post('/queue/fal-ai/stable-diffusion-v35-medium', validInput(), 'sub-1')).json()) as { request_id: string };
    expect(b.request_id).toBe(a.request_id);
    expect(gw.sim.stats().calls.submit).toBe(1);
  });

  it('answers a non-retryable 422 when the key is reused with a different body', async () => {
    await (await post('/fal-ai/stable-diffusion-v35-medium', validInput({ seed: 1 }), 'run-2')).arrayBuffer();
    const res = await post('/fal-ai/stable-diffusion-v35-medium', validInput({ seed: 2 }), 'run-2');
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ detail: [{ loc: ['header', 'idempotency-key'], type: 'idempotency_key_reused' }] });
  });

  it('answers 409 to a repeat while the first is still running', async () => {
    gw.sim.setFaults({ latencyMs: 2000 });
    try {
      const first = post('/fal-ai/stable-diffusion-v35-medium', validInput(), 'run-3');
      await new Promise((r) => setTimeout(r, 300));
      const second = await post('/fal-ai/stable-diffusion-v35-medium', validInput(), 'run-3');
      expect(second.status).toBe(409);
      expect((await first).status).toBe(200);
    } finally {
      gw.sim.setFaults({ latencyMs: 5 });
    }
  });

  it('keeps keys per gateway key: another key may use the same Idempotency-Key', async () => {
    const other = await gw.createKey({ name: 'other' });
    await (await post('/fal-ai/stable-diffusion-v35-medium', validInput(), 'shared')).arrayBuffer();
    const res = await fetch(`${gw.url}/fal-ai/stable-diffusion-v35-medium`, {
      method: 'POST',
      headers: { authorization: `Key ${other.key}`, 'content-type': 'application/json', 'idempotency-key': 'shared' },
      body: JSON.stringify(validInput()),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    await res.arrayBuffer();
  });
});
