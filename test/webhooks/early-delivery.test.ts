/**
 * fal can deliver a job's webhook before the gateway has recorded the submit's request id (a fast
 * job, a slow database write). The gateway cannot tell that delivery from one for a request it
 * never sent, so it answers 400 and settles nothing; fal retries any non-2xx (docs/fal-protocol.md
 * §2.4), and its retry, once the id is recorded, settles the row once and is relayed once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { scrape, sum } from '../helpers/prometheus.js';
import { startRig, startReceiver, submit, webhookKey, eventually, quiet, type Receiver, type Rig } from './harness.js';

let rig: Rig | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await rig?.close();
  await receiver?.close();
  rig = receiver = undefined;
});

describe('a delivery that beats the submit\'s bookkeeping', () => {
  it('is refused with 400 and settles nothing; fal\'s retry after the id is recorded settles the row once and is relayed once', async () => {
    rig = await startRig({ simFaults: { webhookBackoffMs: 200, webhookMaxRetries: 3 } });
    const r = rig;
    const g = r.gateways[0];
    if (g === undefined) throw new Error('no gateway');
    receiver = await startReceiver(() => `${g.url}/.well-known/jwks.json`);
    const key = await webhookKey(r, receiver.url);

    // Hold the write that records fal's request id until fal's first delivery has been answered.
    const ledger = g.stores.ledger;
    const attach = ledger.attachFalRequestId.bind(ledger);
    let heldId: string | undefined;
    let stateWhileHeld: string | undefined;
    ledger.attachFalRequestId = async (id, falRequestId) => {
      heldId = falRequestId;
      await eventually(() => r.tap.captured.length >= 1, 'fal\'s first delivery');
      stateWhileHeld = (await ledger.get(id))?.state;
      return attach(id, falRequestId);
    };

    const sub = await submit(g.url, key.key, receiver.url);
    expect(sub.status).toBe(200);
    const requestId = String(sub.json.request_id);
    expect(heldId).toBe(requestId);
    const first = r.tap.captured[0];
    // A validly signed delivery for exactly this request: the gateway did not know the id yet.
    expect(first?.headers['x-fal-webhook-request-id']).toBe(requestId);
    expect(JSON.parse(first?.body.toString('utf8') ?? '{}')).toMatchObject({ request_id: requestId, status: 'OK' });
    expect(first?.status).toBe(400);
    expect(stateWhileHeld).toBe('reserved');
    expect(g.logs.some((l) => l.includes('unknown_request') && l.includes(requestId))).toBe(true);

    await eventually(async () => (await ledger.findByFalRequestId(requestId))?.state === 'settled', 'the retry to settle the row');
    await eventually(() => receiver?.accepted.length === 1, 'the relay');
    await quiet();
    expect(r.tap.captured.map((c) => c.status)).toEqual([400, 200]);
    expect(await ledger.findByFalRequestId(requestId)).toMatchObject({ settleSource: 'billable_units', verified: true, settledMicro: 20_000 });
    expect(r.sim.calls().filter((c) => c.requestId === requestId && c.op === 'result')).toHaveLength(1);
    expect(r.sim.calls().filter((c) => c.requestId === requestId && c.op === 'status')).toHaveLength(0);
    expect(receiver.accepted).toHaveLength(1);
    const samples = await scrape(g.url);
    expect(sum(samples, 'gateway_webhook_deliveries_total', { outcome: 'refused', reason: 'unknown_request' })).toBe(1);
    expect(sum(samples, 'gateway_webhook_deliveries_total', { outcome: 'accepted' })).toBe(1);
  });
});
