/** Key B can never see or touch key A's queue request, through either door, and causes no fal call. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let a: string;
let b: string;
let requestId: string;
const Q = 'https://queue.fal.run/fal-ai/stable-diffusion-v35-medium';
const HOST = '/queue/fal-ai/stable-diffusion-v35-medium';

beforeAll(async () => {
  gw = await startTestGateway();
  a = (await gw.createKey({ name: 'a' })).key;
  b = (await gw.createKey({ name: 'b' })).key;
  const res = await fetch(gw.url + HOST, { method: 'POST', headers: { authorization: `Key ${a}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) });
  requestId = ((await res.json()) as { request_id: string }).request_id;
});
afterAll(() => gw.close());

const operations = (id: string) => [
  { door: 'host', method: 'GET', url: `${HOST}/requests/${id}/status` },
  { door: 'host', method: 'GET', url: `${HOST}/requests/${id}/status/stream` },
  { door: 'host', method: 'GET', url: `${HOST}/requests/${id}` },
  { door: 'host', method: 'GET', url: `${HOST}/requests/${id}/response` },
  { door: 'host', method: 'PUT', url: `${HOST}/requests/${id}/cancel` },
  { door: 'proxy', method: 'GET', target: `${Q}/requests/${id}/status?logs=0` },
  { door: 'proxy', method: 'GET', target: `${Q}/requests/${id}/status/stream` },
  { door: 'proxy', method: 'GET', target: `${Q}/requests/${id}` },
  { door: 'proxy', method: 'PUT', target: `${Q}/requests/${id}/cancel` },
];

async function call(key: string, op: ReturnType<typeof operations>[number]) {
  const headers: Record<string, string> = { authorization: `Key ${key}`, 'content-type': 'application/json' };
  if (op.target) headers['x-fal-target-url'] = op.target;
  return fetch(gw.url + (op.url ?? '/api/fal/proxy'), { method: op.method, headers });
}

it("answers 404 to key B for key A's request on every operation and door, with no upstream call", async () => {
  // The sim is not reset here: that would forget A's job.
  const before = gw.sim.calls().length;
  for (const op of operations(requestId)) {
    const res = await call(b, op);
    expect(res.status, JSON.stringify(op)).toBe(404);
    expect(await res.json()).toMatchObject({ error_type: 'not_found', detail: 'Request not found' });
  }
  expect(gw.sim.calls()).toHaveLength(before);
});

it('gives an unknown id exactly the same answer as a foreign one', async () => {
  const unknown = await call(b, operations('00000000-0000-4000-8000-000000000000')[0] ?? { door: 'host', method: 'GET', url: '' });
  const foreign = await call(b, operations(requestId)[0] ?? { door: 'host', method: 'GET', url: '' });
  const strip = (j: Record<string, unknown>) => ({ ...j, request_id: undefined });
  expect(unknown.status).toBe(foreign.status);
  expect(strip((await unknown.json()) as Record<string, unknown>)).toEqual(strip((await foreign.json()) as Record<string, unknown>));
});

it('lets the owner through on every door', async () => {
  for (const op of operations(requestId).filter((o) => o.method === 'GET' && !o.url?.endsWith('stream') && !o.target?.endsWith('stream'))) {
    const res = await call(a, op);
    expect(res.status, JSON.stringify(op)).not.toBe(404);
    await res.arrayBuffer();
  }
});
