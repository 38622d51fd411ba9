/**
 * Webhook settlement and relay over the wire: the simulated fal delivers to the gateway's own
 * endpoint, the gateway settles the row with one result fetch and no status poll, and the caller's
 * receiver gets fal's body once, signed with the gateway's key.
 */
import { afterEach, describe, expect, it } from 'vitest';
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

function pollsFor(r: Rig, requestId: string) {
  const calls = r.sim.calls().filter((c) => c.requestId === requestId);
  return { status: calls.filter((c) => c.op === 'status' || c.op === 'stream').length, result: calls.filter((c) => c.op === 'result').length };
}

describe('webhook settlement and relay', () => {
  it('registers the gateway endpoint with fal, settles from one result fetch without a poll, and relays once with a valid gateway signature', async () => {
    rig = await startRig();
    const g = gw(rig);
    receiver = await startReceiver(() => `${g.url}/.well-known/jwks.json`);
    const key = await webhookKey(rig, receiver.url.replace(/\/hook$/, ''));
    const sub = await submit(g.url, key.key, receiver.url);
    expect(sub.status).toBe(200);
    const requestId = String(sub.json.request_id);

    // fal was given the gateway's endpoint, never the caller's URL.
    const submitCall = rig.sim.calls().find((c) => c.op === 'submit');
    expect(submitCall?.path).toContain(`fal_webhook=${encodeURIComponent(`${rig.tap.url}/webhooks/fal`)}`);
    expect(submitCall?.path).not.toContain(encodeURIComponent(receiver.url));

    await eventually(async () => (await g.stores.ledger.findByFalRequestId(requestId))?.state === 'settled', 'the row to settle');
    const row = await g.stores.ledger.findByFalRequestId(requestId);
    expect(row).toMatchObject({ state: 'settled', settleSource: 'billable_units', verified: true, settledMicro: 20_000 });
    expect(pollsFor(rig, requestId)).toEqual({ status: 0, result: 1 });

    await eventually(() => receiver?.accepted.length === 1, 'the relayed delivery');
    await quiet();
    expect(receiver.accepted).toHaveLength(1);
    expect(receiver.forged).toBe(0);
    const [got] = receiver.accepted;
    const falBody = rig.tap.captured.find((c) => c.status === 200)?.body;
    expect(got?.body.equals(falBody ?? Buffer.alloc(0))).toBe(true);
    expect(JSON.parse(got?.body.toString('utf8') ?? '{}')).toMatchObject({ request_id: requestId, status: 'OK' });
    expect(got?.headers['x-gateway-webhook-request-id']).toBe(requestId);
    expect(got?.headers['x-gateway-webhook-user-id']).toBe(key.id);
    expect((await g.stores.webhooks.get(row?.id ?? ''))?.state).toBe('delivered');
    // The settlement came from fal's bill, and no secret reached the logs.
    expect(g.logs.join('\n')).not.toContain(key.key);
  });

  it('with WEBHOOK_SETTLEMENT=true settles a submit without fal_webhook from the delivery, relaying nothing', async () => {
    rig = await startRig({ env: { WEBHOOK_SETTLEMENT: 'true' } });
    const g = gw(rig);
    const key = await webhookKey(rig, 'https://hooks.example');
    const sub = await submit(g.url, key.key);
    const requestId = String(sub.json.request_id);
    await eventually(async () => (await g.stores.ledger.findByFalRequestId(requestId))?.state === 'settled', 'the row to settle');
    expect(pollsFor(rig, requestId)).toEqual({ status: 0, result: 1 });
    const row = await g.stores.ledger.findByFalRequestId(requestId);
    // A registration without a URL marks it (the reconciler skips its polls); nothing to send.
    expect(await g.stores.webhooks.get(row?.id ?? '')).toMatchObject({ url: null, state: 'delivered', body: null, attempts: 0 });
  });

  it('a job that fails with a runner error is released from the delivery (fal does not bill 5xx), and still relayed', async () => {
    rig = await startRig({ simFaults: { errorRate: 1 } });
    const g = gw(rig);
    receiver = await startReceiver(() => `${g.url}/.well-known/jwks.json`);
    const key = await webhookKey(rig, receiver.url);
    const requestId = String((await submit(g.url, key.key, receiver.url)).json.request_id);
    await eventually(async () => (await g.stores.ledger.findByFalRequestId(requestId))?.state === 'released', 'the row to be released');
    expect(pollsFor(rig, requestId).status).toBe(0);
    await eventually(() => receiver?.accepted.length === 1, 'the relayed error delivery');
    expect(JSON.parse(receiver.accepted[0]?.body.toString('utf8') ?? '{}')).toMatchObject({ request_id: requestId, status: 'ERROR' });
  });

  it('a fal_webhook outside the key\'s allowed_webhook_urls is refused before anything is reserved', async () => {
    rig = await startRig();
    const g = gw(rig);
    const key = await webhookKey(rig, 'http://127.0.0.1:1/only-here');
    const sub = await submit(g.url, key.key, 'http://127.0.0.1:1/elsewhere');
    expect(sub.status).toBe(403);
    expect(rig.sim.calls().filter((c) => c.op === 'submit')).toHaveLength(0);
  });
});
