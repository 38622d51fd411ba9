/** One contract for every PriceStore adapter (SQLite, Postgres): one row per endpoint, replaced on put, seen by every handle. */
import { expect, it } from 'vitest';
import { describeBackends } from '../store/store-backends.js';

describeBackends('PriceStore', (fresh) => {
  it('stores one price per endpoint, replaces it, and another handle (instance) reads the new one', async () => {
    const db = await fresh();
    const [a, b] = [await db.open(), await db.open()];
    expect(await a.prices.get('fal-ai/x')).toBeNull();
    await a.prices.put({ endpointId: 'fal-ai/x', unit: 'megapixels', microUsdPerUnit: 20_000, falUnitPrice: '0.02', fetchedAt: '2026-03-10T10:00:00.000Z' });
    await a.prices.put({ endpointId: 'fal-ai/y', unit: 'megapixels', microUsdPerUnit: 1, falUnitPrice: '0.000001', fetchedAt: '2026-03-10T10:00:00.000Z' });
    await b.prices.put({ endpointId: 'fal-ai/x', unit: 'megapixels', microUsdPerUnit: 19_500, falUnitPrice: '0.0195', fetchedAt: '2026-03-10T11:00:00.000Z' });
    expect(await a.prices.get('fal-ai/x')).toEqual({ endpointId: 'fal-ai/x', unit: 'megapixels', microUsdPerUnit: 19_500, falUnitPrice: '0.0195', fetchedAt: '2026-03-10T11:00:00.000Z' });
    expect((await b.prices.get('fal-ai/y'))?.microUsdPerUnit).toBe(1);
  });
});
