/** One key cannot hold more than MAX_STREAMS_PER_KEY status streams (each holds a socket to fal). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ simLatencyMs: 3000, env: { MAX_STREAMS_PER_KEY: '2' } });
});
afterAll(() => gw.close());

it('refuses a third concurrent stream for a key with 429, and frees the slot when a stream closes', async () => {
  const { key } = await gw.createKey({ name: 'streamer' });
  const other = await gw.createKey({ name: 'other' });
  const submit = async (k: string) =>
    ((await (await fetch(`${gw.url}/queue/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: { authorization: `Key ${k}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) })).json()) as { request_id: string }).request_id;
  const id = await submit(key);
  const open = (k: string, rid: string) => {
    const ctl = new AbortController();
    const res = fetch(`${gw.url}/queue/fal-ai/stable-diffusion-v35-medium/requests/${rid}/status/stream`, { headers: { authorization: `Key ${k}` }, signal: ctl.signal });
    return { res, ctl };
  };
  const a = open(key, id);
  const b = open(key, id);
  expect((await a.res).status).toBe(200);
  expect((await b.res).status).toBe(200);
  const c = await open(key, id).res;
  expect(c.status).toBe(429);
  expect(await c.json()).toMatchObject({ error_type: 'rate_limited' });
  // Another key is unaffected.
  const otherId = await submit(other.key);
  const d = open(other.key, otherId);
  expect((await d.res).status).toBe(200);
  d.ctl.abort();
  a.ctl.abort();
  await new Promise((r) => setTimeout(r, 100));
  const e = open(key, id);
  expect((await e.res).status).toBe(200);
  e.ctl.abort();
  b.ctl.abort();
});
