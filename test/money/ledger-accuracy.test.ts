/**
 * A 1,000-request mixed run (sync and queue, every preset, custom sizes, 1–4 images): the ledger's
 * settled total equals what the simulated fal billed, to the micro-dollar (docs/reliability.md R4).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ simLatencyMs: 1, simFaults: { queueConcurrency: 64 } });
});
afterAll(() => gw.close());

const SIZES: unknown[] = ['square_hd', 'square', 'portrait_4_3', 'portrait_16_9', 'landscape_4_3', 'landscape_16_9', { width: 640, height: 448 }, { width: 1000, height: 1000 }, { width: 1536, height: 640 }, { width: 200, height: 3000 }];

/** Deterministic mix (mulberry32) so a failure replays. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

it('settles 1,000 mixed requests to exactly what fal billed', async () => {
  const { id, key } = await gw.createKey({ name: 'mixed', rpm: 100_000 });
  gw.sim.reset();
  const rand = rng(42);
  const headers = { authorization: `Key ${key}`, 'content-type': 'application/json' };
  const jobs = Array.from({ length: 1000 }, (_, i) => ({
    queue: rand() < 0.5,
    body: { prompt: `job ${i}`, image_size: SIZES[Math.floor(rand() * SIZES.length)], num_images: 1 + Math.floor(rand() * 4), seed: Math.floor(rand() * 4), output_format: 'png' },
  }));
  const statusUrls: string[] = [];
  for (let i = 0; i < jobs.length; i += 25) {
    await Promise.all(
      jobs.slice(i, i + 25).map(async (job) => {
        const url = `${gw.url}${job.queue ? '/queue' : ''}/fal-ai/stable-diffusion-v35-medium`;
        const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(job.body) });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { status_url?: string };
        if (job.queue && body.status_url) statusUrls.push(body.status_url);
      }),
    );
  }
  // Nobody polls half of the queue jobs: the reconciler must settle those on its own.
  await Promise.all(statusUrls.filter((_, i) => i % 2 === 0).map((u) => fetch(u, { headers }).then((r) => r.arrayBuffer())));
  for (let i = 0; i < 100; i++) {
    await gw.app.reconciler.pass();
    const u = (await (await fetch(`${gw.url}/admin/usage?key_id=${id}`, { headers: { authorization: `Bearer ${gw.adminToken}` } })).json()) as { reserved_usd: number };
    if (u.reserved_usd === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const usage = (await (await fetch(`${gw.url}/admin/usage?key_id=${id}`, { headers: { authorization: `Bearer ${gw.adminToken}` } })).json()) as { total_usd: number; reserved_usd: number; requests: number; billed_units: number };
  const billedUnits = gw.sim.stats().billedUnits;
  expect(usage.reserved_usd).toBe(0);
  expect(usage.requests).toBe(1000);
  expect(usage.billed_units).toBe(billedUnits);
  // $0.02 per unit, compared in integer micro-USD.
  expect(Math.round(usage.total_usd * 1e6)).toBe(billedUnits * 20_000);
}, 120_000);
