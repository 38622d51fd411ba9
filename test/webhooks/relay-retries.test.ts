/**
 * The relay's retries: a receiver that is down is retried with doubling waits until it answers;
 * after WEBHOOK_RELAY_MAX_ATTEMPTS the delivery is marked failed and logged; a URL taken off the
 * key's allowed_webhook_urls is not sent to; and a pending delivery survives a restart (SQLite).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStores } from '../../src/store/stores.js';
import { startRig, startReceiver, submit, webhookKey, eventually, quiet, type Receiver, type Rig } from './harness.js';

let rig: Rig | undefined;
let receiver: Receiver | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await rig?.close();
  await receiver?.close();
  rig = undefined;
  receiver = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function gw(r: Rig, i = 0) {
  const g = r.gateways[i];
  if (g === undefined) throw new Error('no gateway');
  return g;
}

async function relayOf(r: Rig, requestId: string) {
  const row = await gw(r).stores.ledger.findByFalRequestId(requestId);
  return row === null ? null : gw(r).stores.webhooks.get(row.id);
}

describe('relay retries', () => {
  it('retries a receiver that is down with doubling waits until it answers, then delivers once', async () => {
    rig = await startRig({ env: { WEBHOOK_RELAY_BACKOFF_MS: '100' } });
    receiver = await startReceiver(() => `${gw(rig as Rig).url}/.well-known/jwks.json`);
    receiver.failNext = 3;
    const key = await webhookKey(rig, receiver.url);
    const requestId = String((await submit(gw(rig).url, key.key, receiver.url)).json.request_id);
    await eventually(() => receiver?.accepted.length === 1, 'the delivery after three failures');
    await quiet();
    expect(receiver.attempts).toBe(4);
    const gaps = receiver.times.slice(1).map((t, i) => t - (receiver?.times[i] ?? 0));
    // Each wait at least the doubling backoff (100, 200, 400 ms; a little timer slack allowed).
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(100 * 2 ** i - 15));
    expect(await relayOf(rig, requestId)).toMatchObject({ state: 'delivered', attempts: 4, lastStatus: 204 });
  });

  it('gives up after WEBHOOK_RELAY_MAX_ATTEMPTS, marks the delivery failed and logs it at error level', async () => {
    rig = await startRig({ env: { WEBHOOK_RELAY_MAX_ATTEMPTS: '3' } });
    receiver = await startReceiver(() => `${gw(rig as Rig).url}/.well-known/jwks.json`);
    receiver.failNext = 1_000;
    const key = await webhookKey(rig, receiver.url);
    const requestId = String((await submit(gw(rig).url, key.key, receiver.url)).json.request_id);
    await eventually(async () => (await relayOf(rig as Rig, requestId))?.state === 'failed', 'the relay to give up');
    await quiet();
    expect(receiver.attempts).toBe(3);
    expect(await relayOf(rig, requestId)).toMatchObject({ state: 'failed', attempts: 3, lastStatus: 503 });
    const line = gw(rig).logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.alert === 'webhook_relay_failed');
    expect(line).toMatchObject({ level: 50, falRequestId: requestId });
    // The ledger is not the relay's business: the row settled from fal's delivery all the same.
    expect((await gw(rig).stores.ledger.findByFalRequestId(requestId))?.state).toBe('settled');
  });

  it('does not send to a URL removed from the key\'s allowed_webhook_urls after the submit', async () => {
    rig = await startRig();
    receiver = await startReceiver(() => `${gw(rig as Rig).url}/.well-known/jwks.json`);
    receiver.failNext = 1;
    const key = await webhookKey(rig, receiver.url);
    const requestId = String((await submit(gw(rig).url, key.key, receiver.url)).json.request_id);
    await eventually(() => receiver?.attempts === 1, 'the first (failed) attempt');
    await gw(rig).stores.keys.update(key.id, { allowedWebhookUrls: ['http://127.0.0.1:1/other'] });
    await eventually(async () => (await relayOf(rig as Rig, requestId))?.state === 'failed', 'the relay to stop');
    expect(receiver.attempts).toBe(1);
    expect((await relayOf(rig, requestId))?.lastError).toContain('allowed_webhook_urls');
  });

  it('a delivery still pending when the gateway stops is sent by the next one on the same database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fgw-relay-'));
    dirs.push(dir);
    const file = `sqlite:${join(dir, 'gateway.db')}`;
    rig = await startRig({ stores: [await openStores(file)], env: { WEBHOOK_RELAY_BACKOFF_MS: '200' } });
    receiver = await startReceiver(() => `${gw(rig as Rig).url}/.well-known/jwks.json`);
    receiver.failNext = 1_000;
    const key = await webhookKey(rig, receiver.url);
    const requestId = String((await submit(gw(rig).url, key.key, receiver.url)).json.request_id);
    await eventually(() => (receiver?.attempts ?? 0) >= 1, 'a failed attempt');
    await rig.close();
    expect(receiver.accepted).toHaveLength(0);

    // A new gateway process on the same file: same signing key (from the database), same outbox.
    receiver.failNext = 0;
    rig = await startRig({ stores: [await openStores(file)] });
    const reborn = gw(rig);
    await eventually(() => receiver?.accepted.length === 1, 'the delivery after the restart');
    expect(JSON.parse(receiver.accepted[0]?.body.toString('utf8') ?? '{}')).toMatchObject({ request_id: requestId });
    const row = await reborn.stores.ledger.findByFalRequestId(requestId);
    // The receiver answers before the worker records the outcome: wait for the write.
    await eventually(async () => (await reborn.stores.webhooks.get(row?.id ?? ''))?.state === 'delivered', 'the relay to be marked delivered');
  });
});
