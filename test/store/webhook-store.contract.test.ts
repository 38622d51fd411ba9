/**
 * One contract for every WebhookStore adapter (SQLite, Postgres): a relay row's life
 * (awaiting → pending → delivered / failed), idempotent receipt, leases that give a due row to one
 * of two racing handles, and one signing key for every handle on a database.
 */
import { expect, it } from 'vitest';
import { describeBackends } from './store-backends.js';

const T0 = 1_767_225_600_000;
const BODY = Buffer.from('{"request_id":"fal-1","status":"OK","payload":{"seed":12345678901234567890}}');

describeBackends('WebhookStore', (fresh) => {
  it('stores fal\'s body byte for byte once; a second receipt or one for an unknown row changes nothing', async () => {
    const { webhooks } = await (await fresh()).open();
    await webhooks.register({ ledgerId: 'gw_1', keyId: 'k1', url: 'https://hooks.example/a', createdAt: T0 });
    await webhooks.register({ ledgerId: 'gw_1', keyId: 'k2', url: 'https://other.example', createdAt: T0 + 1 });
    expect(await webhooks.get('gw_1')).toMatchObject({ state: 'awaiting', keyId: 'k1', url: 'https://hooks.example/a', body: null, attempts: 0 });
    expect(await webhooks.received('gw_1', 'fal-1', BODY, T0 + 10)).toBe(true);
    expect(await webhooks.received('gw_1', 'fal-1', Buffer.from('{}'), T0 + 20)).toBe(false);
    expect(await webhooks.received('gw_none', 'fal-2', BODY, T0 + 20)).toBe(false);
    const row = await webhooks.get('gw_1');
    expect(row).toMatchObject({ state: 'pending', falRequestId: 'fal-1', receivedAt: T0 + 10, nextAttemptAt: T0 + 10 });
    expect(row?.body?.equals(BODY)).toBe(true);
    expect(await webhooks.get('gw_none')).toBeNull();
  });

  it('claims only due, unleased rows; a retry is due again at its time; delivered and failed rows are never claimed', async () => {
    const { webhooks } = await (await fresh()).open();
    for (const id of ['gw_a', 'gw_b', 'gw_c']) {
      await webhooks.register({ ledgerId: id, keyId: 'k1', url: 'https://hooks.example', createdAt: T0 });
    }
    await webhooks.received('gw_a', 'fal-a', BODY, T0);
    await webhooks.received('gw_b', 'fal-b', BODY, T0 + 5_000);
    expect((await webhooks.claimDue('w1', T0 + 1, 60_000, 10)).map((r) => r.ledgerId)).toEqual(['gw_a']);
    expect(await webhooks.claimDue('w2', T0 + 10_000, 60_000, 10)).toMatchObject([{ ledgerId: 'gw_b' }]); // gw_a is leased
    expect(await webhooks.finish('gw_a', 'w2', { kind: 'delivered', status: 200, at: T0 })).toBe(false); // not w2's lease
    expect(await webhooks.finish('gw_a', 'w1', { kind: 'retry', status: 503, error: 'receiver answered 503', nextAttemptAt: T0 + 20_000 })).toBe(true);
    expect(await webhooks.get('gw_a')).toMatchObject({ state: 'pending', attempts: 1, lastStatus: 503, nextAttemptAt: T0 + 20_000 });
    expect(await webhooks.claimDue('w1', T0 + 19_999, 60_000, 10)).toEqual([]);
    expect(await webhooks.claimDue('w1', T0 + 20_000, 60_000, 10)).toMatchObject([{ ledgerId: 'gw_a', attempts: 1 }]);
    expect(await webhooks.finish('gw_a', 'w1', { kind: 'delivered', status: 204, at: T0 + 21_000 })).toBe(true);
    expect(await webhooks.finish('gw_b', 'w2', { kind: 'failed', status: null, error: 'connection failed', at: T0 + 21_000 })).toBe(true);
    expect(await webhooks.get('gw_a')).toMatchObject({ state: 'delivered', attempts: 2, lastStatus: 204, finishedAt: T0 + 21_000, lastError: null });
    expect(await webhooks.get('gw_b')).toMatchObject({ state: 'failed', attempts: 1, lastError: 'connection failed' });
    expect(await webhooks.claimDue('w1', T0 + 10_000_000, 60_000, 10)).toEqual([]); // gw_c never received anything
  });

  it('takes back a row whose lease ran out (its sender died)', async () => {
    const { webhooks } = await (await fresh()).open();
    await webhooks.register({ ledgerId: 'gw_1', keyId: 'k1', url: 'https://hooks.example', createdAt: T0 });
    await webhooks.received('gw_1', 'fal-1', BODY, T0);
    expect(await webhooks.claimDue('dead', T0, 1_000, 10)).toHaveLength(1);
    expect(await webhooks.claimDue('alive', T0 + 999, 1_000, 10)).toHaveLength(0);
    expect(await webhooks.claimDue('alive', T0 + 1_001, 1_000, 10)).toHaveLength(1);
    expect(await webhooks.finish('gw_1', 'dead', { kind: 'delivered', status: 200, at: T0 + 2_000 })).toBe(false);
  });

  it('gives each due row to exactly one of two handles racing on one database', async () => {
    const db = await fresh();
    const [a, b] = [await db.open(), await db.open()];
    const ids = Array.from({ length: 30 }, (_, i) => `gw_${i}`);
    for (const id of ids) {
      await a.webhooks.register({ ledgerId: id, keyId: 'k1', url: 'https://hooks.example', createdAt: T0 });
      await a.webhooks.received(id, `fal-${id}`, BODY, T0);
    }
    const rounds = await Promise.all([a, b, a, b].map((s, i) => s.webhooks.claimDue(`w${i}`, T0 + 1, 60_000, 30)));
    const claimed = rounds.flat().map((r) => r.ledgerId);
    expect([...claimed].sort()).toEqual([...ids].sort());
  });

  it('prunes finished rows and stale registrations before a time, never a pending row', async () => {
    const { webhooks } = await (await fresh()).open();
    for (const id of ['gw_done', 'gw_failed', 'gw_pending', 'gw_waiting', 'gw_recent']) {
      await webhooks.register({ ledgerId: id, keyId: 'k1', url: 'https://hooks.example', createdAt: id === 'gw_recent' ? T0 + 50_000 : T0 });
    }
    for (const id of ['gw_done', 'gw_failed', 'gw_pending']) await webhooks.received(id, `fal-${id}`, BODY, T0);
    await webhooks.claimDue('w', T0, 60_000, 10);
    await webhooks.finish('gw_done', 'w', { kind: 'delivered', status: 200, at: T0 + 1 });
    await webhooks.finish('gw_failed', 'w', { kind: 'failed', status: 500, error: 'receiver answered 500', at: T0 + 1 });
    await webhooks.finish('gw_pending', 'w', { kind: 'retry', status: 500, error: 'receiver answered 500', nextAttemptAt: T0 + 2 });
    expect(await webhooks.prune(T0 + 10_000)).toBe(3);
    expect(await webhooks.get('gw_done')).toBeNull();
    expect(await webhooks.get('gw_failed')).toBeNull();
    expect(await webhooks.get('gw_waiting')).toBeNull();
    expect(await webhooks.get('gw_pending')).toMatchObject({ state: 'pending' });
    expect(await webhooks.get('gw_recent')).toMatchObject({ state: 'awaiting' });
  });

  it('a settlement-only registration (no URL) is finished by fal\'s delivery without keeping the body, and never claimed', async () => {
    const { webhooks } = await (await fresh()).open();
    await webhooks.register({ ledgerId: 'gw_s', keyId: 'k1', url: null, createdAt: T0 });
    expect(await webhooks.get('gw_s')).toMatchObject({ state: 'awaiting', url: null, receivedAt: null });
    expect(await webhooks.received('gw_s', 'fal-s', BODY, T0 + 10)).toBe(false); // nothing to relay
    expect(await webhooks.get('gw_s')).toMatchObject({ state: 'delivered', falRequestId: 'fal-s', body: null, receivedAt: T0 + 10, finishedAt: T0 + 10 });
    expect(await webhooks.received('gw_s', 'fal-s', BODY, T0 + 20)).toBe(false);
    expect((await webhooks.get('gw_s'))?.receivedAt).toBe(T0 + 10);
    expect(await webhooks.claimDue('w', T0 + 1_000_000, 60_000, 10)).toEqual([]);
  });

  it('tells which of many ledger rows are registered, and when fal delivered to each', async () => {
    const { webhooks } = await (await fresh()).open();
    const ids = Array.from({ length: 450 }, (_, i) => `gw_${i}`); // more than one IN list
    for (const id of ids.filter((_, i) => i % 3 === 0)) await webhooks.register({ ledgerId: id, keyId: 'k1', url: id === 'gw_3' ? null : 'https://hooks.example', createdAt: T0 });
    await webhooks.received('gw_0', 'fal-0', BODY, T0 + 5);
    await webhooks.received('gw_3', 'fal-3', BODY, T0 + 6);
    const found = await webhooks.registrations(ids);
    expect(found.size).toBe(150);
    expect(found.get('gw_0')).toEqual({ receivedAt: T0 + 5 });
    expect(found.get('gw_3')).toEqual({ receivedAt: T0 + 6 });
    expect(found.get('gw_447')).toEqual({ receivedAt: null });
    expect(found.has('gw_1')).toBe(false);
    expect((await webhooks.registrations([])).size).toBe(0);
  });

  it('keeps the first signing key stored, for every handle', async () => {
    const db = await fresh();
    const [a, b] = [await db.open(), await db.open()];
    const keys = await Promise.all([a.webhooks.signingKey('key-one', T0), b.webhooks.signingKey('key-two', T0)]);
    expect(keys[0]).toBe(keys[1]);
    expect(await b.webhooks.signingKey('key-three', T0)).toBe(keys[0]);
  });
});
