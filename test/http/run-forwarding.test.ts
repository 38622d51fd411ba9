/** The sync door over the wire: what reaches fal, and what comes back. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let key: string;
const RUN = '/fal-ai/stable-diffusion-v35-medium';

beforeAll(async () => {
  gw = await startTestGateway();
  key = (await gw.createKey({ name: 'runner' })).key;
});
afterAll(() => gw.close());

function run(body: string, headers: Record<string, string> = {}) {
  return fetch(gw.url + RUN, {
    method: 'POST',
    headers: { authorization: `Key ${key}`, 'content-type': 'application/json', ...headers },
    body,
  });
}

describe('POST /fal-ai/stable-diffusion-v35-medium', () => {
  it('forwards valid input with the fal key and never the client key', async () => {
    gw.sim.reset();
    const res = await run(JSON.stringify(validInput()));
    expect(res.status).toBe(200);
    const out = (await res.json()) as { images: { width: number; height: number; url: string }[] };
    expect(out.images).toHaveLength(1);
    expect(out.images[0]).toMatchObject({ width: 512, height: 512 });

    const calls = gw.sim.calls().filter((c) => c.op === 'run');
    expect(calls).toHaveLength(1);
    const sent = calls[0]?.headers ?? {};
    expect(sent.authorization).toBe(`Key ${gw.falKey}`);
    expect(JSON.stringify(sent)).not.toContain(key);
  });

  it('accepts Authorization: Bearer as well as Key', async () => {
    const res = await fetch(gw.url + RUN, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(validInput()),
    });
    expect(res.status).toBe(200);
  });

  it("passes fal's request id, billable units and content type back", async () => {
    const res = await run(JSON.stringify(validInput({ image_size: 'square_hd', num_images: 2 })));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-fal-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-fal-billable-units')).toBe('4');
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.headers.get('x-gateway-request-id')).toMatch(/^gw_/);
    await res.arrayBuffer();
  });

  it('keeps a seed above 2^53 exact in both directions', async () => {
    const seed = '196619188014358660';
    const res = await run(`{"prompt":"seed test","image_size":"square","seed":${seed}}`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain(`"seed":${seed}`);
    const sent = gw.sim.calls().filter((c) => c.op === 'run').at(-1);
    expect(sent).toBeDefined();
  });

  it('forwards only allowlisted x-fal headers', async () => {
    gw.sim.reset();
    const res = await run(JSON.stringify(validInput()), {
      'x-fal-queue-priority': 'low',
      'x-fal-store-io': '0',
      'x-fal-target-url': 'https://evil.example/',
      'x-fal-something-else': '1',
      'x-forwarded-for': '10.0.0.1',
      cookie: 'session=abc',
    });
    expect(res.status).toBe(200);
    const sent = gw.sim.calls().find((c) => c.op === 'run')?.headers ?? {};
    expect(sent['x-fal-queue-priority']).toBe('low');
    expect(sent['x-fal-store-io']).toBe('0');
    expect(sent['x-fal-target-url']).toBeUndefined();
    expect(sent['x-fal-something-else']).toBeUndefined();
    expect(sent['x-forwarded-for']).toBeUndefined();
    expect(sent.cookie).toBeUndefined();
  });

  it('streams sync_mode data URIs through', async () => {
    const res = await run(JSON.stringify(validInput({ sync_mode: true, output_format: 'png' })));
    expect(res.status).toBe(200);
    const out = (await res.json()) as { images: { url: string }[] };
    expect(out.images[0]?.url.startsWith('data:image/png;base64,')).toBe(true);
  });

  it("relays fal's own error status and body (a late, billed 422)", async () => {
    const res = await run(JSON.stringify(validInput({ prompt: 'blocked [sim:422]' })));
    expect(res.status).toBe(422);
    const body = (await res.json()) as { detail: { type: string }[] };
    expect(body.detail[0]?.type).toBe('content_policy_violation');
  });

  it('answers 500 upstream_outcome_unknown (not a retryable 5xx) when fal resets mid-call', async () => {
    const res = await run(JSON.stringify(validInput({ prompt: 'reset [sim:reset]' })));
    // Either the reset arrives before headers (gateway answers) or mid-body (connection dropped).
    if (res.status !== 200) {
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error_type: string; request_id: string };
      expect(body.error_type).toBe('upstream_outcome_unknown');
      expect(body.request_id).toMatch(/^gw_/);
    } else {
      await expect(res.text()).rejects.toThrow();
    }
  });
});
