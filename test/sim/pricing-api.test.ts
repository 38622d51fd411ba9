import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MODEL_ID } from '../../src/domain/model.js';
import type { FalSim } from '../../src/sim/fal-sim.js';
import { AUTH, call, json, post, startSim } from './sim-client.js';

const ADMIN = { authorization: 'Key admin-id:admin-secret' };

let sim: FalSim;
beforeEach(async () => {
  sim = await startSim({ adminKey: 'admin-id:admin-secret' });
});
afterEach(() => sim.close());

function pricingUrl(ids = MODEL_ID): string {
  return `${sim.apiUrl}/v1/models/pricing?endpoint_id=${encodeURIComponent(ids)}`;
}

describe('pricing API (GET /v1/models/pricing on apiUrl)', () => {
  it('answers the account price for the endpoint in fal\'s shape, to the serving key and the admin key', async () => {
    const expected = { prices: [{ endpoint_id: MODEL_ID, unit_price: 0.02, unit: 'megapixels', currency: 'USD' }], next_cursor: null, has_more: false };
    expect(json(await call(pricingUrl(), 'GET', AUTH))).toEqual(expected);
    expect(json(await call(pricingUrl(), 'GET', ADMIN))).toEqual(expected);
  });

  it('shows a price set through the control API, and the start price again after reset', async () => {
    const set = await post(`${sim.runUrl}/_sim/pricing`, { unit_price: 0.015 }, {});
    expect(json(set)).toEqual({ unit_price: 0.015, unit: 'megapixels', currency: 'USD' });
    expect(json(await call(pricingUrl(), 'GET', AUTH))).toMatchObject({ prices: [{ unit_price: 0.015, unit: 'megapixels' }] });
    sim.setPrice({ unitPrice: 0.04, unit: 'images' });
    expect(json(await call(pricingUrl(), 'GET', AUTH))).toMatchObject({ prices: [{ unit_price: 0.04, unit: 'images' }] });
    sim.reset();
    expect(json(await call(pricingUrl(), 'GET', AUTH))).toMatchObject({ prices: [{ unit_price: 0.02, unit: 'megapixels' }] });
  });

  it('refuses a bad price on the control API and leaves the price as it was', async () => {
    expect((await post(`${sim.runUrl}/_sim/pricing`, { unit_price: -1 }, {})).status).toBe(400);
    expect((await post(`${sim.runUrl}/_sim/pricing`, { unit_price: 0.03, unit: '' }, {})).status).toBe(400);
    expect(() => sim.setPrice({ unitPrice: Number.NaN, unit: 'megapixels' })).toThrow(RangeError);
    expect(json(await call(`${sim.runUrl}/_sim/pricing`, 'GET', {}))).toEqual({ unit_price: 0.02, unit: 'megapixels', currency: 'USD' });
  });

  it('lists only endpoints it prices, needs a key, and needs endpoint_id', async () => {
    expect(json(await call(pricingUrl('fal-ai/flux/dev'), 'GET', AUTH))).toMatchObject({ prices: [] });
    expect(json(await call(pricingUrl(`fal-ai/flux/dev,${MODEL_ID}`), 'GET', AUTH))).toMatchObject({ prices: [{ endpoint_id: MODEL_ID }] });
    const anonymous = await call(pricingUrl(), 'GET', {});
    expect(anonymous.status).toBe(401);
    expect(json(anonymous)).toMatchObject({ error: { type: 'authorization_error' } });
    expect((await call(`${sim.apiUrl}/v1/models/pricing`, 'GET', AUTH)).status).toBe(400);
    expect((await call(pricingUrl(), 'POST', AUTH)).status).toBe(405);
    expect((await call(`${sim.apiUrl}/v1/nothing`, 'GET', AUTH)).status).toBe(404);
  });

  it('refuses to start with the admin key equal to the serving key', async () => {
    await expect(startSim({ adminKey: 'test-key-id:test-key-secret' })).rejects.toThrow(RangeError);
  });
});
