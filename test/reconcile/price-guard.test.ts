/**
 * A price that would disable budgets never reaches a quote (PRICE_SOURCE=fal): fal answering
 * unit_price 0 keeps the last good price (logged at error), a price below one µUSD per megapixel is
 * rounded up rather than to 0, and a stored row of 0 µUSD (another instance, a hand edit) is ignored.
 */
import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { MODEL_ID } from '../../src/domain/model.js';
import { run, startRig, type Rig } from './rig.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const env = { PRICE_SOURCE: 'fal', PRICE_REFRESH_MS: '3600000' };
const square = { prompt: 'price guard', image_size: 'square' };
const errors = (r: Rig): string[] => r.logs.filter((l) => (JSON.parse(l) as { level: number }).level >= 50);

it('keeps the last good price when fal answers unit_price 0', async () => {
  rig = await startRig({ env });
  expect((await run(rig, square)).costUsd).toBe('0.020000');
  rig.sim.setPrice({ unitPrice: 0, unit: 'megapixels' });
  await expect(rig.app.price.source?.refresh()).rejects.toThrow(/not above zero/);
  rig.clock.set(rig.clock.t + 5_000); // past PRICE_CACHE_MS
  expect((await run(rig, square)).costUsd).toBe('0.020000');
  expect((await rig.stores.prices.get(MODEL_ID))?.microUsdPerUnit).toBe(20_000);
});

it('rounds a price below one micro-USD per megapixel up, never to zero', async () => {
  rig = await startRig({ env });
  rig.sim.setPrice({ unitPrice: 0.0000004, unit: 'megapixels' });
  await rig.app.price.source?.refresh();
  rig.clock.set(rig.clock.t + 5_000);
  expect((await rig.stores.prices.get(MODEL_ID))?.microUsdPerUnit).toBe(1);
  expect((await run(rig, square)).costUsd).toBe('0.000001');
});

it('ignores a stored price of 0 and says so at error level', async () => {
  rig = await startRig({ env });
  await rig.stores.prices.put({ endpointId: MODEL_ID, unit: 'megapixels', microUsdPerUnit: 0, falUnitPrice: '0', fetchedAt: new Date(rig.clock.t).toISOString() });
  rig.clock.set(rig.clock.t + 5_000);
  expect((await run(rig, square)).costUsd).toBe('0.020000');
  expect(errors(rig).join('\n')).toContain('the shared price is not a positive micro-USD amount');
});

it('re-reads fal\'s price every 5 minutes unless PRICE_REFRESH_MS says otherwise', () => {
  // The window in which new quotes may still use a changed price (docs/reconciliation.md §6).
  expect(loadConfig({ FAL_KEY: 'fal_refresh_default', PRICE_SOURCE: 'fal' }).platform.priceRefreshMs).toBe(300_000);
  expect(loadConfig({ FAL_KEY: 'fal_refresh_default', PRICE_SOURCE: 'fal', PRICE_REFRESH_MS: '60000' }).platform.priceRefreshMs).toBe(60_000);
});
