/**
 * Two gateway instances on one Postgres database: fal's deliveries (each one duplicated, and spread
 * over both instances) settle every row once and reach the caller's receiver exactly once each,
 * whichever instance's relay worker claims them; both sign with the one key stored in the database.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openStores } from '../../src/store/stores.js';
import { createSchema, dropSchema, postgresSkipReason, postgresUrl } from '../store/store-backends.js';
import { startRig, startReceiver, submit, webhookKey, eventually, quiet, type Receiver, type Rig } from './harness.js';

let rig: Rig | undefined;
let receiver: Receiver | undefined;
let schema: string | undefined;
afterEach(async () => {
  await rig?.close();
  await receiver?.close();
  if (schema !== undefined) await dropSchema(schema);
  rig = undefined;
  receiver = undefined;
  schema = undefined;
});

describe.skipIf(postgresSkipReason !== undefined)('two instances on Postgres', () => {
  it('deliver each relayed webhook once and settle each row once', async () => {
    schema = await createSchema();
    const stores = [await openStores(postgresUrl(), { schema }), await openStores(postgresUrl(), { schema })];
    rig = await startRig({ stores, simFaults: { webhookDuplicateRate: 1 } });
    const [a, b] = rig.gateways;
    if (a === undefined || b === undefined) throw new Error('two gateways expected');
    receiver = await startReceiver(() => `${b.url}/.well-known/jwks.json`);
    const key = await webhookKey(rig, receiver.url);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const via = i % 2 === 0 ? a : b;
      ids.push(String((await submit(via.url, key.key, receiver.url, { prompt: `fox ${i}`, image_size: { width: 64, height: 64 }, seed: i })).json.request_id));
    }
    await eventually(() => receiver?.accepted.length === ids.length, 'every relayed delivery');
    await quiet(1_000); // a second send by the other instance would show up here
    const relayed = (receiver.accepted).map((d) => String(d.headers['x-gateway-webhook-request-id']));
    expect([...relayed].sort()).toEqual([...ids].sort());
    expect(receiver.forged).toBe(0);
    // Both instances took deliveries (the tap alternates), and both publish the same key.
    const accepted = rig.tap.captured.filter((c) => c.status === 200);
    expect(accepted).toHaveLength(ids.length * 2);
    const jwks = await Promise.all([a, b].map(async (g) => (await fetch(`${g.url}/.well-known/jwks.json`)).json()));
    expect(jwks[0]).toEqual(jwks[1]);
    for (const id of ids) {
      const row = await a.stores.ledger.findByFalRequestId(id);
      expect(row).toMatchObject({ state: 'settled', settleSource: 'billable_units' });
      expect(await a.stores.webhooks.get(row?.id ?? '')).toMatchObject({ state: 'delivered', attempts: 1 });
    }
  });
});
