import { afterEach, describe, expect, it } from 'vitest';
import { MODEL_ID } from '../../src/domain/model.js';
import type { FalSim } from '../../src/sim/fal-sim.js';
import { AUTH, call, json, post, runModel, startSim, submit, TINY, waitCompleted } from './sim-client.js';

const ADMIN_KEY = 'admin-key-id:admin-key-secret';
const ADMIN = { authorization: `Key ${ADMIN_KEY}` };
const T0 = Date.parse('2026-03-10T10:15:00Z');
const HOUR = 3_600_000;

interface Line { endpoint_id: string; unit: string; quantity: number; unit_price: number; cost: number; currency: string }
interface Page { time_series?: { bucket: string; results: Line[] }[]; summary?: Line[]; next_cursor: string | null; has_more: boolean }

let sim: FalSim;
let clock = T0;
afterEach(() => sim.close());

async function start(): Promise<FalSim> {
  clock = T0;
  sim = await startSim({ adminKey: ADMIN_KEY, now: () => clock });
  return sim;
}

/** One billed sync run of `images` 64×64 images (1 unit each) at the sim's current clock. */
async function billedRun(images = 1, prompt = 'x'): Promise<string> {
  const r = await runModel(sim, { prompt, image_size: TINY, num_images: images, seed: 1 });
  expect(r.status).toBe(200);
  return r.headers.get('x-fal-request-id') ?? '';
}

function usageUrl(query: Record<string, string>): string {
  const q = new URLSearchParams({ endpoint_id: MODEL_ID, start: '2026-03-10T00:00:00Z', end: '2026-03-12T00:00:00Z', timeframe: 'hour', ...query });
  return `${sim.apiUrl}/v1/models/usage?${q.toString()}`;
}

async function page(query: Record<string, string>): Promise<Page> {
  const r = await call(usageUrl(query), 'GET', ADMIN);
  expect(r.status, r.text).toBe(200);
  return JSON.parse(r.text) as Page;
}

/** Follows next_cursor to the end, as a reconciler must: a short page is not the last one. */
async function walk(query: Record<string, string>): Promise<{ pages: Page[]; buckets: { bucket: string; results: Line[] }[] }> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const p = await page(cursor === null ? query : { ...query, cursor });
    pages.push(p);
    cursor = p.next_cursor;
    expect(p.has_more).toBe(cursor !== null);
  } while (cursor !== null && pages.length < 100);
  return { pages, buckets: pages.flatMap((p) => p.time_series ?? []) };
}

function units(buckets: { results: Line[] }[]): number {
  return buckets.flatMap((b) => b.results).reduce((sum, l) => sum + l.quantity, 0);
}

/** Three hours of traffic: 10:15 (1+2 units), 11:15 (1), the next day 09:15 (3). */
async function mixedDay(): Promise<void> {
  await billedRun(1);
  await billedRun(2);
  clock = T0 + HOUR;
  await billedRun(1);
  clock = T0 + 23 * HOUR;
  await billedRun(3);
  await runModel(sim, { prompt: 'x', num_images: 9 }); // a 422: free, never in the bill
}

describe('usage API (GET /v1/models/usage on apiUrl)', () => {
  it('walks back, page by page, a bill equal to the sim stats, in UTC hour buckets', async () => {
    await start();
    await mixedDay();
    const { pages, buckets } = await walk({ limit: '1' });
    expect(pages).toHaveLength(3);
    expect(buckets.map((b) => b.bucket)).toEqual(['2026-03-10T10:00:00+00:00', '2026-03-10T11:00:00+00:00', '2026-03-11T09:00:00+00:00']);
    expect(units(buckets)).toBe(sim.stats().billedUnits);
    expect(sim.stats().billedUnits).toBe(7);
    expect(buckets[0]?.results).toEqual([{ endpoint_id: MODEL_ID, unit: 'megapixels', quantity: 3, unit_price: 0.02, cost: 0.06, currency: 'USD' }]);
    expect(pages[1]?.next_cursor).toBe(Buffer.from('3').toString('base64'));
  });

  it('bills a queue job in the bucket of its completion, like a sync run', async () => {
    await start();
    clock = T0 + 2 * HOUR;
    await waitCompleted(await submit(sim, { prompt: 'x', image_size: TINY, num_images: 4, seed: 2 }));
    await billedRun(1);
    const [bucket, ...rest] = (await page({})).time_series ?? [];
    expect(rest).toEqual([]);
    expect(bucket).toMatchObject({ bucket: '2026-03-10T12:00:00+00:00', results: [{ quantity: 5 }] });
    expect(sim.stats().billedUnits).toBe(5);
  });

  it('keeps to the asked window, aligned to whole buckets unless bound_to_timeframe=false', async () => {
    await start();
    await mixedDay();
    const window = { start: '2026-03-10T11:30:00Z', end: '2026-03-10T12:00:00Z' };
    expect(units((await page(window)).time_series ?? [])).toBe(1); // 11:30 aligns down to 11:00
    expect(units((await page({ ...window, bound_to_timeframe: 'false' })).time_series ?? [])).toBe(0);
    expect(units((await page({ endpoint_id: 'fal-ai/flux/dev' })).time_series ?? [])).toBe(0);
  });

  it('sums the same bill into UTC day buckets and a summary', async () => {
    await start();
    await mixedDay();
    const p = await page({ timeframe: 'day', expand: 'time_series,summary' });
    expect(p.time_series?.map((b) => [b.bucket, units([b])])).toEqual([['2026-03-10T00:00:00+00:00', 4], ['2026-03-11T00:00:00+00:00', 3]]);
    expect(p.summary).toEqual([{ endpoint_id: MODEL_ID, unit: 'megapixels', quantity: 7, unit_price: 0.02, cost: 0.14, currency: 'USD' }]);
    expect(p.has_more).toBe(false);
  });

  it('requires the ADMIN key: the serving key gets 403, no key or another key 401, in fal\'s error shape', async () => {
    await start();
    const serving = await call(usageUrl({}), 'GET', AUTH);
    expect(serving.status).toBe(403);
    expect(json(serving)).toEqual({ error: { type: 'authorization_error', message: expect.any(String) as string } });
    expect((await call(usageUrl({}), 'GET', {})).status).toBe(401);
    expect((await call(usageUrl({}), 'GET', { authorization: 'Key someone:else' })).status).toBe(401);
    expect((await call(usageUrl({}), 'GET', ADMIN)).status).toBe(200);
  });

  it('refuses a query fal would not answer (no endpoint_id, other time zones, a forged cursor)', async () => {
    await start();
    const noEndpoint = await call(`${sim.apiUrl}/v1/models/usage`, 'GET', ADMIN);
    expect(noEndpoint.status).toBe(400);
    expect(json(noEndpoint)).toMatchObject({ error: { type: 'validation_error' } });
    expect((await call(usageUrl({ timezone: 'America/New_York' }), 'GET', ADMIN)).status).toBe(400);
    expect((await call(usageUrl({ cursor: 'bm9wZQ==' }), 'GET', ADMIN)).status).toBe(400);
  });

  it('shows a price change as a second line at the new unit price', async () => {
    await start();
    await billedRun(1);
    sim.setPrice({ unitPrice: 0.03, unit: 'megapixels' });
    await billedRun(2);
    const [bucket] = (await page({})).time_series ?? [];
    expect(bucket?.results.map((l) => [l.quantity, l.unit_price, l.cost])).toEqual([[1, 0.02, 0.02], [2, 0.03, 0.06]]);
  });
});

describe('usage API fault knobs', () => {
  it('late buckets: a bucket that has ended still grows until its totals arrive (usageLagMs)', async () => {
    await start();
    sim.setFaults({ usageLagMs: 2 * HOUR });
    await billedRun(2);
    clock = T0 + HOUR; // the 10:00 bucket has ended ...
    expect(units((await page({})).time_series ?? [])).toBe(0); // ... and shows nothing yet
    clock = T0 + 2 * HOUR;
    expect(units((await page({})).time_series ?? [])).toBe(2);
  });

  it('partial pages: fewer buckets than limit while has_more is true, and the walk still gets them all', async () => {
    await start();
    await mixedDay();
    const set = await post(`${sim.runUrl}/_sim/faults`, { usageMaxPageSize: 1 }, {});
    expect(set.status).toBe(200);
    const { pages, buckets } = await walk({ limit: '10' });
    expect(pages.map((p) => p.time_series?.length)).toEqual([1, 1, 1]);
    expect(units(buckets)).toBe(sim.stats().billedUnits);
  });

  it('rate limits: 429 rate_limited with Retry-After, then answers again once the knob is off', async () => {
    await start();
    await post(`${sim.runUrl}/_sim/faults`, { usageRate429: 1, usageRetryAfterS: 7 }, {});
    const limited = await call(usageUrl({}), 'GET', ADMIN);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(json(limited)).toMatchObject({ error: { type: 'rate_limited' } });
    await post(`${sim.runUrl}/_sim/faults`, { usageRate429: 0 }, {});
    expect((await call(usageUrl({}), 'GET', ADMIN)).status).toBe(200);
    expect(sim.stats().calls.usage).toBe(2); // both reached fal's side and are in the call log
    expect(sim.calls().map((c) => c.op)).toEqual(['usage', 'usage']);
  });

  it('bill one request twice: the usage API differs from the stats by exactly that request\'s units', async () => {
    await start();
    await billedRun(1);
    const doubled = await billedRun(2);
    expect((await post(`${sim.runUrl}/_sim/bill-twice`, { request_id: doubled }, {})).status).toBe(200);
    const stats = sim.stats();
    expect(units((await page({})).time_series ?? [])).toBe(stats.billedUnits + (stats.billedByRequest[doubled] ?? NaN));
    expect(stats.billedUnits).toBe(3); // what the sim answered per request is unchanged
    expect((await post(`${sim.runUrl}/_sim/bill-twice`, { request_id: 'never-billed' }, {})).status).toBe(404);
    expect(() => sim.billTwice('never-billed')).toThrow(RangeError);
  });

  it('validates the new knobs and forgets them, the bill and the doubling on reset', async () => {
    await start();
    expect((await post(`${sim.runUrl}/_sim/faults`, { usageMaxPageSize: -1 }, {})).status).toBe(400);
    expect((await post(`${sim.runUrl}/_sim/faults`, { webhookMaxRetries: 1.5 }, {})).status).toBe(400);
    sim.billTwice(await billedRun(1));
    sim.setFaults({ usageRate429: 1 });
    sim.reset();
    expect(units((await page({})).time_series ?? [])).toBe(0);
  });
});
