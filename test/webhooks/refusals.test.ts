/**
 * What the gateway refuses at /webhooks/fal, and what it does with repeats: forged, stale,
 * future-dated and replayed deliveries settle nothing and relay nothing; fal's duplicates and a
 * delivery for a row a poll already settled change nothing and still answer 200.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MODEL_PATH } from '../../src/domain/model.js';
import { startRig, startReceiver, submit, webhookKey, eventually, quiet, type Receiver, type Rig } from './harness.js';

let rig: Rig | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await rig?.close();
  await receiver?.close();
  rig = undefined;
  receiver = undefined;
});

function gw(r: Rig) {
  const g = r.gateways[0];
  if (g === undefined) throw new Error('no gateway');
  return g;
}

async function setUp(r: Rig): Promise<{ key: { id: string; key: string }; receiver: Receiver }> {
  const g = gw(r);
  receiver = await startReceiver(() => `${g.url}/.well-known/jwks.json`);
  return { key: await webhookKey(r, receiver.url), receiver };
}

const resultFetches = (r: Rig, id: string) => r.sim.calls().filter((c) => c.requestId === id && c.op === 'result').length;

async function refusedDeliveries(r: Rig, requestId: string, attempts: number): Promise<void> {
  await eventually(() => r.sim.webhookDeliveries().filter((d) => d.requestId === requestId).length === attempts, `${attempts} delivery attempts`);
  await quiet();
}

describe('refused deliveries settle nothing', () => {
  it('a forged signature (a key fal does not publish) is refused with 401 on every attempt', async () => {
    rig = await startRig({ simFaults: { webhookBadSignatureRate: 1, webhookMaxRetries: 2 } });
    const { key, receiver: rx } = await setUp(rig);
    const requestId = String((await submit(gw(rig).url, key.key, rx.url)).json.request_id);
    await refusedDeliveries(rig, requestId, 3);
    expect(rig.tap.captured.map((c) => c.status)).toEqual([401, 401, 401]);
    const row = await gw(rig).stores.ledger.findByFalRequestId(requestId);
    expect(row?.state).toBe('reserved');
    expect((await gw(rig).stores.webhooks.get(row?.id ?? ''))?.state).toBe('awaiting');
    expect(resultFetches(rig, requestId)).toBe(0);
    expect(rx.attempts).toBe(0);
    expect(gw(rig).logs.some((l) => l.includes('fal webhook refused') && l.includes('bad_signature'))).toBe(true);
  });

  it.each([
    ['stale (signed 400 s ago)', -400_000],
    ['future-dated (400 s ahead)', 400_000],
  ])('a %s timestamp is refused with 401', async (_what, offset) => {
    rig = await startRig({ simClockOffsetMs: () => offset, simFaults: { webhookMaxRetries: 0 } });
    const { key, receiver: rx } = await setUp(rig);
    const requestId = String((await submit(gw(rig).url, key.key, rx.url)).json.request_id);
    await refusedDeliveries(rig, requestId, 1);
    expect(rig.tap.captured.map((c) => c.status)).toEqual([401]);
    expect((await gw(rig).stores.ledger.findByFalRequestId(requestId))?.state).toBe('reserved');
    expect(resultFetches(rig, requestId)).toBe(0);
    expect(rx.attempts).toBe(0);
    expect(gw(rig).logs.some((l) => l.includes('stale_timestamp'))).toBe(true);
  });

  it('a delivery re-POSTed later is a no-op inside the window and refused after it', async () => {
    let gatewayClock = 0;
    rig = await startRig({ gatewayClockOffsetMs: () => gatewayClock });
    const { key, receiver: rx } = await setUp(rig);
    const g = gw(rig);
    const requestId = String((await submit(g.url, key.key, rx.url)).json.request_id);
    await eventually(() => rx.accepted.length === 1, 'the relay');
    await eventually(async () => (await g.stores.ledger.findByFalRequestId(requestId))?.state === 'settled', 'the settlement');
    const before = await g.stores.ledger.findByFalRequestId(requestId);
    const original = rig.tap.captured.find((c) => c.status === 200);
    if (original === undefined) throw new Error('no captured delivery');
    const replay = () => fetch(`${g.url}/webhooks/fal`, { method: 'POST', headers: original.headers, body: original.body });

    expect((await replay()).status).toBe(200); // within 300 s: fal's own retry looks like this
    gatewayClock = 301_000;
    const late = await replay();
    expect(late.status).toBe(401);
    expect(await late.json()).toMatchObject({ error_type: 'unauthorized' });
    await quiet();
    expect(await g.stores.ledger.findByFalRequestId(requestId)).toEqual(before);
    expect(rx.attempts).toBe(1);
    expect(resultFetches(rig, requestId)).toBe(1);
  });

  it('a validly signed delivery for a request the gateway never submitted is refused with 400', async () => {
    rig = await startRig({ simFaults: { webhookMaxRetries: 0 } });
    // Submitted to fal directly, with the gateway's endpoint as its webhook: fal signs it, the gateway has no row.
    const res = await fetch(`${rig.sim.queueUrl}${MODEL_PATH}?fal_webhook=${encodeURIComponent(`${rig.tap.url}/webhooks/fal`)}`, {
      method: 'POST',
      headers: { authorization: `Key ${gw(rig).config.falKey ?? ''}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'x', image_size: { width: 64, height: 64 } }),
    });
    expect(res.status).toBe(200);
    await eventually(() => rig?.tap.captured.length === 1, 'the delivery');
    expect(rig.tap.captured[0]?.status).toBe(400);
    expect(gw(rig).logs.some((l) => l.includes('unknown_request'))).toBe(true);
  });

  it('missing signature headers (on a body of several MiB too) or a tampered body are refused with 401', async () => {
    rig = await startRig();
    const g = gw(rig);
    const bare = await fetch(`${g.url}/webhooks/fal`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"request_id":"x","status":"OK"}' });
    expect(bare.status).toBe(401);
    // fal's payload can hold inline images: bodies above the generation limit (1 MiB) still reach the signature check.
    const big = JSON.stringify({ request_id: 'x', status: 'OK', payload: { images: [{ url: `data:image/png;base64,${'A'.repeat(3 * 1024 * 1024)}` }] } });
    expect((await fetch(`${g.url}/webhooks/fal`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big })).status).toBe(401);
    const { key, receiver: rx } = await setUp(rig);
    const requestId = String((await submit(g.url, key.key, rx.url)).json.request_id);
    await eventually(() => rx.accepted.length === 1, 'the relay');
    const original = rig.tap.captured.find((c) => c.status === 200);
    if (original === undefined) throw new Error('no captured delivery');
    const tampered = Buffer.from(original.body.toString('utf8').replace('"OK"', '"ERROR"'));
    expect((await fetch(`${g.url}/webhooks/fal`, { method: 'POST', headers: original.headers, body: tampered })).status).toBe(401);
    expect((await g.stores.ledger.findByFalRequestId(requestId))?.state).toBe('settled');
  });
});

describe('repeats change nothing', () => {
  it('fal\'s duplicate delivery answers 200, fetches nothing more and is relayed once', async () => {
    rig = await startRig({ simFaults: { webhookDuplicateRate: 1 } });
    const { key, receiver: rx } = await setUp(rig);
    const requestId = String((await submit(gw(rig).url, key.key, rx.url)).json.request_id);
    // A first attempt can beat the submit's own bookkeeping (400, retried by fal): only 200s count.
    await eventually(() => rig?.tap.captured.filter((c) => c.status === 200).length === 2, 'the delivery and its duplicate');
    expect(rig.tap.captured.every((c) => c.status === 200 || c.status === 400)).toBe(true);
    await eventually(() => rx.accepted.length === 1, 'the relay');
    await quiet();
    expect(rx.attempts).toBe(1);
    expect(resultFetches(rig, requestId)).toBe(1);
    expect((await gw(rig).stores.ledger.findByFalRequestId(requestId))?.state).toBe('settled');
  });

  it('a delivery for a row a poll already settled leaves the ledger as it was, and is still relayed', async () => {
    rig = await startRig({ simFaults: { webhookMaxRetries: 12 } });
    const g = gw(rig);
    const { key, receiver: rx } = await setUp(rig);
    const targets = rig.tap.targets.splice(0); // the gateway unreachable from fal for now: deliveries fail and are retried
    const sub = await submit(g.url, key.key, rx.url);
    const requestId = String(sub.json.request_id);
    const auth = { authorization: `Key ${key.key}` };
    await eventually(async () => {
      const s = await fetch(String(sub.json.status_url), { headers: auth });
      return ((await s.json()) as { status?: string }).status === 'COMPLETED';
    }, 'COMPLETED');
    expect((await fetch(String(sub.json.response_url), { headers: auth })).status).toBe(200);
    await eventually(async () => (await g.stores.ledger.findByFalRequestId(requestId))?.state === 'settled', 'the poll settlement');
    const settled = await g.stores.ledger.findByFalRequestId(requestId);
    const fetchesBefore = resultFetches(rig, requestId);

    rig.tap.targets.push(...targets);
    await eventually(() => rig?.tap.captured.some((c) => c.status === 200) === true, 'a delivery the gateway accepts');
    await eventually(() => rx.accepted.length === 1, 'the relay');
    await quiet();
    expect(await g.stores.ledger.findByFalRequestId(requestId)).toEqual(settled);
    expect(resultFetches(rig, requestId)).toBe(fetchesBefore);
  });
});
