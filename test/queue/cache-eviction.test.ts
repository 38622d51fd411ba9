/**
 * The in-memory caches are only shortcuts: with bounds so small that every request evicts (one key,
 * two owners, two status answers), authentication, ownership, status and results stay exactly
 * right, because every miss falls back to the store or to fal.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let a: string;
let b: string;
const HOST = '/queue/fal-ai/stable-diffusion-v35-medium';

beforeAll(async () => {
  gw = await startTestGateway({
    cacheBounds: { keys: { maxEntries: 1, maxBytes: 4096 }, owners: { maxEntries: 2, maxBytes: 1024 }, statuses: { maxEntries: 2, maxBytes: 4096 } },
  });
  a = (await gw.createKey({ name: 'a' })).key;
  b = (await gw.createKey({ name: 'b' })).key;
});
afterAll(() => gw.close());

const call = (key: string, method: string, path: string, body?: unknown) =>
  fetch(gw.url + path, { method, headers: { authorization: `Key ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

it('keeps ownership, status and results right when every cache evicts', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await call(i % 2 === 0 ? a : b, 'POST', HOST, validInput());
    expect(res.status).toBe(200);
    ids.push(((await res.json()) as { request_id: string }).request_id);
  }
  const ownerOf = (i: number) => (i % 2 === 0 ? a : b);
  const otherOf = (i: number) => (i % 2 === 0 ? b : a);
  for (let round = 0; round < 2; round++) {
    for (const [i, id] of ids.entries()) {
      // Each call alternates keys and ids, so the 1-key and 2-owner caches miss nearly every time.
      for (;;) {
        const s = await call(ownerOf(i), 'GET', `${HOST}/requests/${id}/status`);
        expect(s.status).toBe(200);
        if (((await s.json()) as { status: string }).status === 'COMPLETED') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const foreign = await call(otherOf(i), 'GET', `${HOST}/requests/${id}/status`);
      expect(foreign.status).toBe(404);
      const result = await call(ownerOf(i), 'GET', `${HOST}/requests/${id}`);
      expect(result.status).toBe(200);
      expect(((await result.json()) as { images: unknown[] }).images).toHaveLength(1);
    }
  }
  // Each job was charged once, for the key that submitted it.
  const rows = await Promise.all(ids.map((id) => gw.stores.ledger.findByFalRequestId(id)));
  expect(rows.map((r) => r?.state)).toEqual(Array(6).fill('settled'));
});
