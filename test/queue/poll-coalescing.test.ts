/** Many pollers of one request cost fal at most one status call per freshness window. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let key: string;
const HOST = '/queue/fal-ai/stable-diffusion-v35-medium';
const WINDOW_MS = 200;

beforeAll(async () => {
  gw = await startTestGateway({ simLatencyMs: 1500, env: { STATUS_CACHE_MS: String(WINDOW_MS) } });
  key = (await gw.createKey()).key;
});
afterAll(() => gw.close());

const statusCalls = () => gw.sim.calls().filter((c) => c.op === 'status').length;

it('shares one upstream status call among concurrent and rapid pollers', async () => {
  const sub = (await (await fetch(gw.url + HOST, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) })).json()) as { status_url: string };
  const poll = () => fetch(sub.status_url, { headers: { authorization: `Key ${key}` } }).then(async (r) => {
    expect([200, 202]).toContain(r.status);
    return (await r.json()) as { status: string };
  });

  const started = Date.now();
  const before = statusCalls();
  // 5 rounds of 40 concurrent pollers, 50 ms apart: well inside a few windows.
  for (let round = 0; round < 5; round++) {
    await Promise.all(Array.from({ length: 40 }, poll));
    await new Promise((r) => setTimeout(r, 50));
  }
  const elapsed = Date.now() - started;
  const upstream = statusCalls() - before;
  const windows = Math.ceil(elapsed / WINDOW_MS) + 1;
  expect(upstream).toBeGreaterThanOrEqual(1);
  expect(upstream).toBeLessThanOrEqual(windows);
  expect(upstream).toBeLessThan(200 / 10);
});

it('serves a COMPLETED status from memory without asking fal again', async () => {
  gw.sim.setFaults({ latencyMs: 10 });
  const sub = (await (await fetch(gw.url + HOST, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) })).json()) as { status_url: string };
  let status = '';
  for (let i = 0; i < 100 && status !== 'COMPLETED'; i++) {
    await new Promise((r) => setTimeout(r, WINDOW_MS + 10));
    status = ((await (await fetch(sub.status_url, { headers: { authorization: `Key ${key}` } })).json()) as { status: string }).status;
  }
  expect(status).toBe('COMPLETED');
  const before = statusCalls();
  await new Promise((r) => setTimeout(r, WINDOW_MS * 2));
  for (let i = 0; i < 20; i++) {
    const r = await fetch(sub.status_url, { headers: { authorization: `Key ${key}` } });
    expect(r.status).toBe(200);
    await r.arrayBuffer();
  }
  expect(statusCalls()).toBe(before);
});
