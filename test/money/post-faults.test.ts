/**
 * What a sync run or a queue submit costs, and what the client sees, when fal's answer is lost on
 * the way (issue #9, items 1, 2, 3, 9a, 9b), over the wire against the simulated fal: a POST fal
 * may have run is charged (its quote, flagged, or fal's bill when its headers came) and answered
 * with a complete, non-retryable 500, never a cut socket or a retryable 502.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFalClient } from '@fal-ai/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

const RUN = '/fal-ai/stable-diffusion-v35-medium';
const SUBMIT = `/queue${RUN}`;
let gw: TestGateway;
let key: string;
beforeAll(async () => {
  gw = await startTestGateway({ env: { RUN_TIMEOUT_MS: '1000', POLL_TIMEOUT_MS: '1000' } });
  ({ key } = await gw.createKey({ name: 'faults' }));
});
afterAll(() => gw.close());

const post = (path: string, body: Record<string, unknown>, extra: Record<string, string> = {}) =>
  fetch(gw.url + path, {
    method: 'POST',
    headers: { authorization: `Key ${key}`, 'content-type': 'application/json', ...extra },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
const rowOf = async (res: Response) => {
  const body = (await res.clone().json()) as { request_id: string };
  return gw.stores.ledger.get(body.request_id);
};

describe('a POST whose answer never came (item 1)', () => {
  it.each([
    ['sync run, fal hangs after reading the body', RUN, '[sim:hang]'],
    ['sync run, reset before any header', RUN, '[sim:reset-before-headers]'],
    ['submit, fal hangs after reading the body', SUBMIT, '[sim:hang]'],
    ['submit, reset before any header', SUBMIT, '[sim:reset-before-headers]'],
  ])('%s: 500 upstream_outcome_unknown, charged at the quote, unverified', async (_name, path, trigger) => {
    const res = await post(path, validInput({ prompt: `x ${trigger}` }));
    expect(res.status).toBe(500);
    expect(await res.clone().json()).toMatchObject({ error_type: 'upstream_outcome_unknown' });
    expect(await rowOf(res)).toMatchObject({ state: 'settled', settledMicro: 20_000, settleSource: 'quote', verified: false, upstreamPhase: 'sent' });
  });
});

describe('a sync answer that breaks off after fal billed it (item 2, 9a)', () => {
  it('a small answer is read whole first: a complete 500 with x-fal-request-id, settled from the billed units', async () => {
    gw.sim.reset();
    const res = await post(RUN, validInput({ prompt: 'x [sim:reset]' }));
    expect(res.status).toBe(500);
    expect(await res.clone().json()).toMatchObject({ error_type: 'upstream_outcome_unknown' });
    const falId = res.headers.get('x-fal-request-id');
    expect(falId).toBe(gw.sim.calls().find((c) => c.op === 'run')?.requestId);
    expect(await rowOf(res)).toMatchObject({ state: 'settled', settledMicro: 20_000, settleSource: 'billable_units', verified: true, outcome: 'body_lost', falRequestId: falId });
  });

  it('@fal-ai/client does not retry it: one fal.run(), one generation, one charge', async () => {
    gw.sim.reset();
    const fal = createFalClient({ credentials: key, proxyUrl: { url: `${gw.url}/api/fal/proxy`, when: 'always' } });
    await expect(fal.run('fal-ai/stable-diffusion-v35-medium', { input: { prompt: 'x [sim:reset]', image_size: 'square' } })).rejects.toMatchObject({ status: 500 });
    expect(gw.sim.stats().calls.run).toBe(1);
    expect(gw.sim.stats().billedUnits).toBe(1);
  });

  it('with an Idempotency-Key the cut answer is answered at once, and a retry replays it without a second generation', async () => {
    gw.sim.reset();
    const first = await post(RUN, validInput({ prompt: 'y [sim:reset]' }), { 'idempotency-key': 'cut-1' });
    expect(first.status).toBe(500);
    expect(await first.json()).toMatchObject({ error_type: 'upstream_outcome_unknown' });
    const again = await post(RUN, validInput({ prompt: 'y [sim:reset]' }), { 'idempotency-key': 'cut-1' });
    expect(again.status).toBe(500);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(gw.sim.stats().calls.run).toBe(1);
  });

  it('a large sync_mode answer is streamed: the transfer breaks, the row is settled from the billed units, an idempotent retry runs nothing', async () => {
    gw.sim.reset();
    // ~160 KB of data URIs, cut at half: past the 64 KiB the gateway reads before answering.
    const body = validInput({ prompt: 'z [sim:reset]', sync_mode: true, image_size: 'landscape_16_9', num_images: 4 });
    const res = await post(RUN, body, { 'idempotency-key': 'cut-large' });
    // Streaming starts once 64 KiB are in; if the cut lands before the status line went out, the
    // client gets the complete 500 instead. Either way: never a 200 with a whole body, one charge.
    if (res.status === 200) await expect(res.arrayBuffer()).rejects.toThrow();
    else expect(await res.json()).toMatchObject({ error_type: 'upstream_outcome_unknown' });
    const row = await gw.stores.ledger.findByFalRequestId(res.headers.get('x-fal-request-id') ?? '');
    expect(row).toMatchObject({ state: 'settled', settleSource: 'billable_units', verified: true, settledMicro: 80_000 });
    const again = await post(RUN, body, { 'idempotency-key': 'cut-large' });
    expect(again.status).toBeGreaterThanOrEqual(400);
    await again.arrayBuffer();
    expect(gw.sim.stats().calls.run).toBe(1);
  });
});

describe('a submit fal accepted whose answer is unusable (items 3, 9b)', () => {
  it.each([
    ['cut after the headers', '[sim:reset]'],
    ['a 200 that is not JSON', '[sim:garbage]'],
    ['a 200 without request_id', '[sim:no-request-id]'],
  ])('%s: a normal queue handle from x-fal-request-id, followed to fal and settled from its bill', async (_name, trigger) => {
    gw.sim.reset();
    const res = await post(SUBMIT, validInput({ prompt: `q ${trigger}` }));
    expect(res.status).toBe(200);
    const handle = (await res.json()) as { request_id: string; status_url: string; response_url: string };
    expect(handle.request_id).toBe(gw.sim.calls().find((c) => c.op === 'submit')?.requestId);
    expect(handle.status_url).toBe(`${gw.url}/queue${RUN}/requests/${handle.request_id}/status`);
    const auth = { authorization: `Key ${key}` };
    for (let i = 0; i < 100; i++) {
      const s = (await (await fetch(handle.status_url, { headers: auth })).json()) as { status: string };
      if (s.status === 'COMPLETED') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const result = await fetch(handle.response_url, { headers: auth });
    expect(result.status).toBe(200);
    await result.arrayBuffer();
    expect(await gw.stores.ledger.findByFalRequestId(handle.request_id)).toMatchObject({ state: 'settled', settledMicro: 20_000, settleSource: 'billable_units', verified: true });
  });

  it('@fal-ai/client submits once: one job, one charge', async () => {
    gw.sim.reset();
    const fal = createFalClient({ credentials: key, proxyUrl: { url: `${gw.url}/api/fal/proxy`, when: 'always' } });
    const { request_id } = await fal.queue.submit('fal-ai/stable-diffusion-v35-medium', { input: { prompt: 'q [sim:garbage]', image_size: 'square' } });
    expect(request_id).toBe(gw.sim.calls().find((c) => c.op === 'submit')?.requestId);
    expect(gw.sim.stats().calls.submit).toBe(1);
  });
});

describe('a submit answer with no usable id anywhere', () => {
  let upstream: Server;
  let other: TestGateway;
  beforeAll(async () => {
    // Plays a fal queue that accepts with a 200 nobody can read and no x-fal-request-id.
    upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>ok</html>'));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    other = await startTestGateway({ upstreamUrls: { run: base, queue: base } });
  });
  afterAll(async () => {
    await other.close();
    await new Promise((r) => upstream.close(r));
  });

  it('answers 500 upstream_outcome_unknown and charges the quote, unverified', async () => {
    const { key: k } = await other.createKey({ name: 'blind' });
    const res = await fetch(other.url + SUBMIT, { method: 'POST', headers: { authorization: `Key ${k}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error_type: string; request_id: string };
    expect(body.error_type).toBe('upstream_outcome_unknown');
    expect(await other.stores.ledger.get(body.request_id)).toMatchObject({ state: 'settled', settledMicro: 20_000, settleSource: 'quote', verified: false });
  });
});

describe('a queue result whose body breaks off', () => {
  it("is still settled from fal's billed units when the gateway fetches it in the background", async () => {
    gw.sim.reset();
    const res = await post(SUBMIT, validInput({ prompt: 'r [sim:result-reset]' }));
    const handle = (await res.json()) as { request_id: string; status_url: string };
    for (let i = 0; i < 100; i++) {
      const s = (await (await fetch(handle.status_url, { headers: { authorization: `Key ${key}` } })).json()) as { status: string };
      if (s.status === 'COMPLETED') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // Nobody fetches the result: the settler does, 2 s after COMPLETED was seen, and its body breaks.
    let row = await gw.stores.ledger.findByFalRequestId(handle.request_id);
    for (let i = 0; i < 100 && row?.state === 'reserved'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      row = await gw.stores.ledger.findByFalRequestId(handle.request_id);
    }
    expect(row).toMatchObject({ state: 'settled', settledMicro: 20_000, settleSource: 'billable_units', verified: true });
  });
});
