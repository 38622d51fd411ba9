/** In-flight caps and per-key policy: refused before any spend or fal call. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  // Generations last long enough that all concurrent attempts overlap, even on a loaded CI machine.
  gw = await startTestGateway({ simLatencyMs: 1500, env: { GLOBAL_MAX_CONCURRENCY: '6', MAX_MEGAPIXELS_PER_IMAGE: '2' } });
});
afterAll(() => gw.close());

const post = (key: string, body: Record<string, unknown>, path = '/fal-ai/stable-diffusion-v35-medium') =>
  fetch(gw.url + path, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, headers: r.headers, body: (await r.json()) as Record<string, unknown> }));
const spentBy = async (id: string) =>
  ((await (await fetch(`${gw.url}/admin/usage?key_id=${id}`, { headers: { authorization: `Bearer ${gw.adminToken}` } })).json()) as { total_usd: number; reserved_usd: number; requests: number });

describe('concurrency', () => {
  it("never runs more than a key's max_concurrency sync generations at once", async () => {
    const { key } = await gw.createKey({ name: 'cap2', max_concurrency: 2 });
    gw.sim.reset();
    const results = await Promise.all(Array.from({ length: 8 }, () => post(key, validInput())));
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    expect(ok).toHaveLength(2);
    expect(refused).toHaveLength(6);
    expect(refused[0]?.body).toMatchObject({ error_type: 'concurrency_limited', limit: 2, limit_scope: 'key' });
    expect(refused[0]?.headers.get('retry-after')).toBe('1');
    // Slots free up when the calls finish.
    expect((await post(key, validInput())).status).toBe(200);
  });

  it('counts queue jobs until they finish', async () => {
    const { key } = await gw.createKey({ name: 'cap1-queue', max_concurrency: 1 });
    const first = await post(key, validInput(), '/queue/fal-ai/stable-diffusion-v35-medium');
    expect(first.status).toBe(200);
    const second = await post(key, validInput(), '/queue/fal-ai/stable-diffusion-v35-medium');
    expect(second.status).toBe(429);
    // Once the job completes and is settled (here by the reconciler), the slot is free again.
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      await gw.app.reconciler.pass();
      const again = await post(key, validInput(), '/queue/fal-ai/stable-diffusion-v35-medium');
      if (again.status === 200) return;
    }
    throw new Error('the queue slot was never released');
  });

  it('applies the gateway-wide cap across keys', async () => {
    // Let earlier tests' queue jobs finish and settle: they count against the global cap too.
    for (let i = 0; i < 50; i++) {
      await gw.app.reconciler.pass();
      const all = (await (await fetch(`${gw.url}/admin/usage`, { headers: { authorization: `Bearer ${gw.adminToken}` } })).json()) as { reserved_usd: number };
      if (all.reserved_usd === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const keys = await Promise.all(Array.from({ length: 4 }, (_, i) => gw.createKey({ name: `g${i}` })));
    const results = await Promise.all(keys.flatMap(({ key }) => [post(key, validInput()), post(key, validInput()), post(key, validInput())]));
    expect(results.filter((r) => r.status === 200)).toHaveLength(6);
    expect(results.filter((r) => r.status === 429).every((r) => r.body.limit_scope === 'global')).toBe(true);
  });
});

describe('policy', () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>, number, string][] = [
    ['max megapixels per image', { max_megapixels_per_image: 0.5 }, { image_size: 'landscape_4_3' }, 422, 'image_too_large'],
    ['the global per-image cap', {}, { image_size: { width: 2048, height: 2048 } }, 422, 'image_too_large'],
    ['max num_images', { max_num_images: 2 }, { num_images: 3 }, 422, 'less_than_equal'],
    ['allowed sizes', { allowed_image_sizes: ['square'] }, { image_size: 'square_hd' }, 422, 'literal_error'],
    ['custom sizes not allowed', { allowed_image_sizes: ['square', 'square_hd'] }, { image_size: { width: 512, height: 512 } }, 422, 'literal_error'],
    ['max prompt length', { max_prompt_length: 10 }, { prompt: 'a very long prompt indeed' }, 422, 'string_too_long'],
    ['forced safety checker', { require_safety_checker: true }, { enable_safety_checker: false }, 403, 'forbidden'],
  ];
  it.each(cases)('refuses %s with zero upstream calls and zero spend', async (_name, policy, body, status, type) => {
    const { id, key } = await gw.createKey({ name: 'policy', policy });
    gw.sim.reset();
    const res = await post(key, validInput(body));
    expect(res.status).toBe(status);
    if (status === 422) expect((res.body.detail as { type: string }[]).map((d) => d.type)).toContain(type);
    else expect(res.body.error_type).toBe(type);
    expect(gw.sim.calls().filter((c) => c.op === 'run' || c.op === 'submit')).toHaveLength(0);
    expect(await spentBy(id)).toMatchObject({ total_usd: 0, reserved_usd: 0, requests: 0 });
  });

  it('lets a request within the policy through', async () => {
    const { key } = await gw.createKey({ name: 'policy-ok', policy: { max_num_images: 2, allowed_image_sizes: ['square'], require_safety_checker: true } });
    expect((await post(key, validInput({ num_images: 2, image_size: 'square' }))).status).toBe(200);
  });
});
