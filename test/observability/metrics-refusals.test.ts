/** Refusals are counted by reason: a key's policy (403 or 422) apart from other 403s and 422s, and concurrency apart from rate. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';
import { scrape, sum } from '../helpers/prometheus.js';

let gw: TestGateway;
const RUN = '/fal-ai/stable-diffusion-v35-medium';

beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

const run = (key: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(gw.url + RUN, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

it('counts policy, forbidden, validation and concurrency refusals under their own reasons', async () => {
  const strict = await gw.createKey({ name: 'strict', rpm: 1000, policy: { max_num_images: 1, require_safety_checker: true }, allowed_origins: ['https://app.example'] });
  const single = await gw.createKey({ name: 'single', rpm: 1000, max_concurrency: 1 });

  expect(await run(strict.key, validInput({ enable_safety_checker: false }))).toBe(403);
  expect(await run(strict.key, validInput({ num_images: 2 }))).toBe(422);
  expect(await run(strict.key, validInput(), { origin: 'https://evil.example' })).toBe(403);
  expect(await run(strict.key, { prompt: 5 })).toBe(422);

  gw.sim.setFaults({ latencyMs: 5000 });
  const first = run(single.key, validInput());
  await new Promise((r) => setTimeout(r, 1000));
  expect(await run(single.key, validInput())).toBe(429);
  expect(await first).toBe(200);

  // An admin call's 422 is not a refusal of the model API.
  const badAdmin = await fetch(`${gw.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${gw.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 5 }) });
  expect(badAdmin.status).toBe(422);
  await badAdmin.arrayBuffer();

  const m = await scrape(gw.url);
  expect(sum(m, 'gateway_refusals_total', { reason: 'policy' })).toBe(2);
  expect(sum(m, 'gateway_refusals_total', { reason: 'forbidden' })).toBe(1);
  expect(sum(m, 'gateway_refusals_total', { reason: 'validation' })).toBe(1);
  expect(sum(m, 'gateway_refusals_total', { reason: 'concurrency' })).toBe(1);
  expect(sum(m, 'gateway_refusals_total', { reason: 'rate' })).toBe(0);
  expect(sum(m, 'gateway_refusals_total')).toBe(5);
}, 30_000);
