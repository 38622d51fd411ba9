/**
 * Rows are shared by every instance: each is judged by what it records itself (issue #9, 9c, 9d).
 * Another instance's reconciler never settles a live call before that call's own deadline, and a
 * settlement the database refused is delivered, held and written once the database answers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerStore } from '../../src/store/ledger-store.js';
import { memoryStores, type Stores } from '../../src/store/stores.js';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

const RUN = '/fal-ai/stable-diffusion-v35-medium';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const run = (gw: TestGateway, key: string, prompt: string) =>
  fetch(gw.url + RUN, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput({ prompt })) });
const openRow = async (ledger: LedgerStore) => (await ledger.pending(10))[0];

describe("another instance's reconciler (9c)", () => {
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    const stores = memoryStores();
    // A waits up to 60 s for fal; B waits 1 s and its clock runs 30 s ahead (or it simply looks later).
    a = await startTestGateway({ stores, simLatencyMs: 1500, env: { RUN_TIMEOUT_MS: '60000' } });
    b = await startTestGateway({ stores, env: { RUN_TIMEOUT_MS: '1000' }, now: () => new Date(Date.now() + 30_000) });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it("leaves a live sync run alone until the row's own deadline, so fal's unbilled 500 releases it", async () => {
    const { key, id } = await a.createKey({ name: 'live' });
    const pending = run(a, key, 'boom [sim:error]');
    for (let i = 0; i < 100 && a.sim.stats().calls.run === 0; i++) await sleep(10);
    const row = await openRow(a.stores.ledger);
    expect(row).toMatchObject({ keyId: id, state: 'reserved' });
    await b.app.reconciler.pass();
    expect(await a.stores.ledger.get(row?.id ?? '')).toMatchObject({ state: 'reserved' });
    const res = await pending;
    expect(res.status).toBe(500);
    await res.arrayBuffer();
    expect(await a.stores.ledger.get(row?.id ?? '')).toMatchObject({ state: 'released', outcome: 'failed' });
  });
});

describe('the ledger write after fal answered fails (9d)', () => {
  let gw: TestGateway;
  let down = false;
  let base: Stores;
  beforeAll(async () => {
    base = memoryStores();
    // A ledger whose writes fail while `down`, as when the database stops mid-call.
    const writes = new Set(['settle', 'release', 'attachFalRequestId', 'counterTotals', 'findByFalRequestId']);
    const ledger = new Proxy(base.ledger, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function' || typeof prop !== 'string' || !writes.has(prop)) return value;
        return (...args: unknown[]) => (down ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })) : (value as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
    gw = await startTestGateway({ stores: { ...base, ledger }, simLatencyMs: 600 });
  });
  afterAll(() => gw.close());
  afterEach(() => {
    down = false;
  });

  it("delivers fal's answer, keeps the row reserved while the database is down, then settles it from fal's bill", async () => {
    const { key } = await gw.createKey({ name: 'outage' });
    const pending = run(gw, key, 'a lighthouse');
    await sleep(200);
    down = true;
    const res = await pending;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { images: unknown[] }).images).toHaveLength(1);
    const falId = res.headers.get('x-fal-request-id');
    const row = await openRow(base.ledger);
    expect(row).toMatchObject({ state: 'reserved', upstreamPhase: 'sent' });
    await gw.app.reconciler.pass(); // the holder's own reconciler leaves it alone
    down = false;
    let settled = await base.ledger.get(row?.id ?? '');
    for (let i = 0; i < 100 && settled?.state === 'reserved'; i++) {
      await sleep(50);
      settled = await base.ledger.get(row?.id ?? '');
    }
    expect(settled).toMatchObject({ state: 'settled', settledMicro: 20_000, settleSource: 'billable_units', verified: true, falRequestId: falId });
  });

  it('a queue result fetched while the database is down is still delivered, and settled once it is back', async () => {
    const { key } = await gw.createKey({ name: 'outage-queue' });
    const auth = { authorization: `Key ${key}` };
    const submitted = await fetch(`${gw.url}/queue${RUN}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) });
    const handle = (await submitted.json()) as { request_id: string; status_url: string; response_url: string };
    for (let i = 0; i < 100; i++) {
      const s = (await (await fetch(handle.status_url, { headers: auth })).json()) as { status: string };
      if (s.status === 'COMPLETED') break;
      await sleep(50);
    }
    down = true;
    const result = await fetch(handle.response_url, { headers: auth });
    expect(result.status).toBe(200);
    expect(((await result.json()) as { images: unknown[] }).images).toHaveLength(1);
    down = false;
    let row = await base.ledger.findByFalRequestId(handle.request_id);
    for (let i = 0; i < 100 && row?.state === 'reserved'; i++) {
      await gw.app.reconciler.pass();
      await sleep(50);
      row = await base.ledger.findByFalRequestId(handle.request_id);
    }
    expect(row).toMatchObject({ state: 'settled', settledMicro: 20_000, settleSource: 'billable_units' });
  });
});
