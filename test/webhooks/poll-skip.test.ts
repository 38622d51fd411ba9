/**
 * The reconciler and webhook settlement over the wire: with WEBHOOK_SETTLEMENT=true and the
 * reconciler running every 100 ms, a request registered with the gateway's webhook is settled from
 * fal's delivery with no status poll at all; when every delivery is lost, its status is first
 * polled once it is WEBHOOK_POLL_FALLBACK_MS old (the gateway's clock moved on), and it settles
 * from that poll as before webhooks. A registration lookup that fails skips nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { memoryStores } from '../../src/store/stores.js';
import { startRig, submit, webhookKey, eventually, quiet, type Rig } from './harness.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

function gw(r: Rig) {
  const g = r.gateways[0];
  if (g === undefined) throw new Error('no gateway');
  return g;
}

const statusPolls = (r: Rig, id: string) => r.sim.calls().filter((c) => c.requestId === id && (c.op === 'status' || c.op === 'stream')).length;

/** Counts reconciler passes: each one starts with one read of the open rows. */
function countPasses(r: Rig): { readonly n: number } {
  const ledger = gw(r).stores.ledger;
  const inner = ledger.pending.bind(ledger);
  const counter = { n: 0 };
  ledger.pending = (limit) => {
    counter.n++;
    return inner(limit);
  };
  return counter;
}

const ENV = { WEBHOOK_SETTLEMENT: 'true', RECONCILE_INTERVAL_MS: '100' };

describe('the reconciler leaves webhook-registered requests to the webhook', () => {
  it('settles from the delivery with zero status polls while the reconciler passes every 100 ms', async () => {
    // The job runs for 1.5 s: a dozen passes see the row open.
    rig = await startRig({ env: ENV, simFaults: { latencyMs: 1_500 } });
    const g = gw(rig);
    const passes = countPasses(rig);
    g.app.reconciler.start();
    const key = await webhookKey(rig, 'https://hooks.example');
    const sub = await submit(g.url, key.key);
    expect(sub.status).toBe(200);
    const requestId = String(sub.json.request_id);
    const before = passes.n;
    await eventually(async () => (await g.stores.ledger.findByFalRequestId(requestId))?.state === 'settled', 'the row to settle');
    expect(passes.n - before).toBeGreaterThanOrEqual(5);
    const row = await g.stores.ledger.findByFalRequestId(requestId);
    expect(row).toMatchObject({ settleSource: 'billable_units', verified: true });
    expect(statusPolls(rig, requestId)).toBe(0);
    // The settlement-only registration is the marker, and fal's delivery finished it.
    expect(await g.stores.webhooks.get(row?.id ?? '')).toMatchObject({ url: null, state: 'delivered', body: null });
  });

  it('polls a request whose deliveries were all lost once it is WEBHOOK_POLL_FALLBACK_MS old, and settles it from the poll', async () => {
    let clock = 0;
    // The tap forwards to no gateway: fal's only attempt gets 502 and fal gives up (retries 0).
    rig = await startRig({ env: { ...ENV, WEBHOOK_POLL_FALLBACK_MS: '600000' }, gatewayClockOffsetMs: () => clock, simFaults: { webhookMaxRetries: 0 } });
    rig.tap.targets.length = 0;
    const g = gw(rig);
    const passes = countPasses(rig);
    g.app.reconciler.start();
    const key = await webhookKey(rig, 'https://hooks.example');
    const requestId = String((await submit(g.url, key.key)).json.request_id);
    await eventually(() => rig?.sim.webhookDeliveries().some((d) => d.requestId === requestId) === true, 'fal\'s (lost) delivery');
    expect(rig.sim.webhookDeliveries().map((d) => d.status)).toEqual([502]);
    const before = passes.n;
    await eventually(() => passes.n - before >= 5, 'five reconciler passes');
    await quiet();
    // Younger than the fallback age: never polled, still open, its registration still awaiting.
    expect(statusPolls(rig, requestId)).toBe(0);
    const row = await g.stores.ledger.findByFalRequestId(requestId);
    expect(row?.state).toBe('reserved');
    expect((await g.stores.webhooks.get(row?.id ?? ''))?.state).toBe('awaiting');

    clock = 600_000;
    await eventually(async () => (await g.stores.ledger.findByFalRequestId(requestId))?.state === 'settled', 'the row to settle from the fallback poll');
    expect(statusPolls(rig, requestId)).toBeGreaterThanOrEqual(1);
    expect(await g.stores.ledger.findByFalRequestId(requestId)).toMatchObject({ settleSource: 'billable_units', verified: true });
  });

  it('polls every queue request when the registrations cannot be read (the database failing), and says so', async () => {
    const stores = memoryStores();
    stores.webhooks.registrations = () => Promise.reject(new Error('connection refused'));
    rig = await startRig({ stores: [stores], env: ENV, simFaults: { webhookMaxRetries: 0 } });
    rig.tap.targets.length = 0; // the webhook is lost too: only the poll can settle it
    const g = gw(rig);
    g.app.reconciler.start();
    const key = await webhookKey(rig, 'https://hooks.example');
    const requestId = String((await submit(g.url, key.key)).json.request_id);
    await eventually(async () => (await g.stores.ledger.findByFalRequestId(requestId))?.state === 'settled', 'the row to settle by polling');
    expect(statusPolls(rig, requestId)).toBeGreaterThanOrEqual(1);
    expect(g.logs.some((l) => l.includes('could not read webhook registrations'))).toBe(true);
  });

  it('polls a request without a webhook registration as before (WEBHOOK_SETTLEMENT off)', async () => {
    rig = await startRig({ env: { RECONCILE_INTERVAL_MS: '100' }, simFaults: { latencyMs: 300 } });
    const g = gw(rig);
    g.app.reconciler.start();
    const key = await webhookKey(rig, 'https://hooks.example');
    const requestId = String((await submit(g.url, key.key)).json.request_id);
    await eventually(async () => (await g.stores.ledger.findByFalRequestId(requestId))?.state === 'settled', 'the row to settle by polling');
    expect(statusPolls(rig, requestId)).toBeGreaterThanOrEqual(1);
  });
});
