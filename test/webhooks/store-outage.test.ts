/**
 * The database misbehaving around webhooks: when fal's delivery cannot be stored the gateway
 * answers 503 (fal retries) and a later attempt settles and relays it once; when the relay
 * registration cannot be stored at submit, the client gets 503, nothing reaches fal, and the
 * reservation is released by the reconciler as never sent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { UNSENT_GRACE_MS } from '../../src/pipeline/reconciler.js';
import { memoryStores, type Stores } from '../../src/store/stores.js';
import { startRig, startReceiver, submit, webhookKey, eventually, quiet, type Receiver, type Rig } from './harness.js';

let rig: Rig | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await rig?.close();
  await receiver?.close();
  rig = undefined;
  receiver = undefined;
});

const unavailable = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

/** Fresh stores whose webhook `method` fails its next `failures` calls as an unreachable database would. */
function flaky(method: 'received' | 'register', failures: { left: number }): Stores {
  const stores = memoryStores();
  const inner = stores.webhooks;
  const wrapped = Object.create(inner) as typeof inner;
  const original = inner[method].bind(inner) as (...args: unknown[]) => Promise<unknown>;
  Object.assign(wrapped, {
    [method]: (...args: unknown[]) => {
      if (failures.left > 0) {
        failures.left--;
        return Promise.reject(unavailable());
      }
      return original(...args);
    },
  });
  return { ...stores, webhooks: wrapped };
}

describe('database outages around webhooks', () => {
  it('a delivery the database cannot store is answered 503, and fal\'s retry settles and relays it once', async () => {
    const failures = { left: 2 };
    rig = await startRig({ stores: [flaky('received', failures)], simFaults: { webhookMaxRetries: 6 } });
    const g = rig.gateways[0];
    if (g === undefined) throw new Error('no gateway');
    receiver = await startReceiver(() => `${g.url}/.well-known/jwks.json`);
    const key = await webhookKey(rig, receiver.url);
    const requestId = String((await submit(g.url, key.key, receiver.url)).json.request_id);
    await eventually(() => receiver?.accepted.length === 1, 'the relay after the outage');
    await quiet();
    const statuses = rig.tap.captured.map((c) => c.status).filter((s) => s !== 400);
    expect(statuses).toEqual([503, 503, 200]);
    expect(receiver.attempts).toBe(1);
    expect((await g.stores.ledger.findByFalRequestId(requestId))?.state).toBe('settled');
  });

  it('a relay registration the database refuses at submit answers 503 and sends nothing to fal; the row is released as never sent', async () => {
    let clock = 0;
    rig = await startRig({ stores: [flaky('register', { left: 1 })], gatewayClockOffsetMs: () => clock });
    const g = rig.gateways[0];
    if (g === undefined) throw new Error('no gateway');
    receiver = await startReceiver(() => `${g.url}/.well-known/jwks.json`);
    const key = await webhookKey(rig, receiver.url);
    const sub = await submit(g.url, key.key, receiver.url);
    expect(sub.status).toBe(503);
    expect(sub.json).toMatchObject({ error_type: 'service_unavailable' });
    expect(rig.sim.calls().filter((c) => c.op === 'submit')).toHaveLength(0);
    const [row] = await g.stores.ledger.pending(10);
    expect(row).toMatchObject({ state: 'reserved', upstreamPhase: 'reserved' });
    clock = UNSENT_GRACE_MS + 1_000;
    await g.app.reconciler.pass();
    expect(await g.stores.ledger.get(row?.id ?? '')).toMatchObject({ state: 'released', outcome: 'not_sent' });
  });
});
