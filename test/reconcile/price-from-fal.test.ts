/**
 * PRICE_SOURCE=fal (issue #14 item 2): the price fal's pricing API gives is stored once in the shared
 * database and used by every instance's new quotes after a change (two instances on Postgres), while
 * a row reserved before the change settles at its own price; a unit the quote logic does not
 * understand stops the start; fal unreachable at start falls back to PRICE_PER_MEGAPIXEL_USD.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startGateway } from '../../src/server.js';
import { startFalSim } from '../../src/sim/fal-sim.js';
import { memoryStores, openStores, type Stores } from '../../src/store/stores.js';
import { createSchema, dropSchema, postgresSkipReason, postgresUrl } from '../store/store-backends.js';
import { queued, run, startRig, type Rig } from './rig.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const FAL_PRICE = { PRICE_SOURCE: 'fal', PRICE_REFRESH_MS: '3600000' };

describe.skipIf(postgresSkipReason !== undefined)('price from fal on two instances (Postgres)', () => {
  it('moves every instance\'s new quotes to a changed price; a row in flight keeps its own', async () => {
    const schema = await createSchema();
    const storesA = await openStores(postgresUrl(), { schema });
    const storesB = await openStores(postgresUrl(), { schema });
    const a = await startRig({ stores: storesA, env: FAL_PRICE });
    const b = await startRig({ stores: storesB, env: FAL_PRICE, shared: { sim: a.sim, clock: a.clock, falKey: a.falKey, adminKey: a.adminKey } });
    cleanups.push(async () => {
      await b.close();
      await a.close();
      await storesA.close();
      await storesB.close();
      await dropSchema(schema);
    });

    expect((await run(a, { prompt: 'before', image_size: 'square' })).costUsd).toBe('0.020000');
    expect((await run(b, { prompt: 'before', image_size: 'square' })).costUsd).toBe('0.020000');
    // Reserved at $0.02; the price changes while fal runs it; the client fetches the result after.
    const inFlight = await queued(a, { prompt: 'in flight', image_size: 'square' }, async () => {
      a.sim.setPrice({ unitPrice: 0.035, unit: 'megapixels' });
      await a.app.price.source?.refresh();
      a.clock.set(a.clock.t + 5_000); // past PRICE_CACHE_MS on every instance
    });
    expect(inFlight.status).toBe(200);
    const row = await storesB.ledger.findByFalRequestId(inFlight.falRequestId ?? '');
    expect(row).toMatchObject({ state: 'settled', unitPriceMicro: 20_000, settledMicro: 20_000 });

    const onB = await run(b, { prompt: 'after on b', image_size: 'square' });
    const onA = await run(a, { prompt: 'after on a', image_size: 'square_hd' });
    expect(onB.costUsd).toBe('0.035000');
    expect(onA.costUsd).toBe('0.070000');
    expect(await storesA.ledger.findByFalRequestId(onB.falRequestId ?? '')).toMatchObject({ unitPriceMicro: 35_000, settledMicro: 35_000 });
    expect(await storesA.prices.get('fal-ai/stable-diffusion-v35-medium')).toMatchObject({ unit: 'megapixels', microUsdPerUnit: 35_000, falUnitPrice: '0.035' });
  }, 60_000);
});

describe('start-up with PRICE_SOURCE=fal', () => {
  async function simWithPrice(unit: string): Promise<{ env: Record<string, string> }> {
    const sim = await startFalSim({ falKey: 'fal_serving_key_for_price', price: { unitPrice: 0.5, unit } });
    cleanups.push(() => sim.close());
    return { env: { FAL_KEY: 'fal_serving_key_for_price', FAL_RUN_URL: sim.runUrl, FAL_QUEUE_URL: sim.queueUrl, FAL_API_URL: sim.apiUrl, PORT: '0', ...FAL_PRICE } };
  }

  it('refuses to start when fal prices the endpoint in a unit quotes do not understand', async () => {
    const { env } = await simWithPrice('seconds');
    const stores: Stores = memoryStores();
    const err: unknown = await startGateway(loadConfig(env), pino({ level: 'silent' }), stores).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String(err)).toMatch(/per "seconds".*PRICE_SOURCE=config/);
  });

  it('falls back to PRICE_PER_MEGAPIXEL_USD with a warning when fal is unreachable', async () => {
    const logs: string[] = [];
    const rig: Rig = await startRig({ env: { ...FAL_PRICE, FAL_API_URL: 'http://127.0.0.1:9', PRICE_PER_MEGAPIXEL_USD: '0.025', FAL_API_TIMEOUT_MS: '500' } });
    cleanups.push(() => rig.close());
    logs.push(...rig.logs);
    expect(logs.join('\n')).toContain("price: fal's pricing API could not be read at start");
    expect((await run(rig, { prompt: 'fallback', image_size: 'square' })).costUsd).toBe('0.025000');
  });
});
