/**
 * What a reservation reads inside its own transaction, on every adapter: with `freshLimits` the key
 * row's budgets, max_concurrency and revoked state and the team row's budgets replace the caller's
 * (possibly cached) limits; an idempotency key whose first try was released `not_sent` is taken over;
 * a settlement above its reservation is flagged `overrun` and counted in usage.
 */
import { expect, it } from 'vitest';
import { generateKeyId, generateSecretKey, hashKey } from '../../src/domain/keys.js';
import type { NewKey } from '../../src/store/key-store.js';
import type { Stores } from '../../src/store/stores.js';
import { releaseInput, reserveInput, settleInput, UNIT, usageTotals, type ReserveSpec } from './ledger-fixtures.js';
import { describeBackends } from './store-backends.js';

function newKey(over: Partial<NewKey> = {}): NewKey {
  const secret = generateSecretKey();
  return {
    id: generateKeyId(),
    name: 'k',
    team: null,
    kind: 'secret',
    hash: hashKey(secret),
    prefix: secret.slice(0, 11),
    budgetMicroUsd: null,
    budgetDailyMicroUsd: null,
    budgetMonthlyMicroUsd: null,
    rpm: null,
    maxConcurrency: null,
    allowedWebhookUrls: [],
    allowedOrigins: [],
    policy: null,
    createdAt: '2026-03-01T00:00:00.000Z',
    ...over,
  };
}

const fresh = (spec: ReserveSpec) => ({ ...reserveInput(spec), freshLimits: true });

describeBackends('Ledger fresh limits, idempotency takeover and overruns', (db) => {
  const open = async (): Promise<Stores> => (await db()).open();

  it('checks the key row budget, not the caller\'s, and reports the key row back', async () => {
    const stores = await open();
    const key = await stores.keys.create(newKey({ budgetMicroUsd: 2 * UNIT }));
    // The caller (a stale cache) says "no limit"; the row says 2 units.
    expect(await stores.ledger.reserve(fresh({ keyId: key.id }))).toMatchObject({ ok: true, fresh: { key: { id: key.id, budgetMicroUsd: 2 * UNIT } } });
    expect(await stores.ledger.reserve(fresh({ keyId: key.id }))).toMatchObject({ ok: true });
    expect(await stores.ledger.reserve(fresh({ keyId: key.id }))).toMatchObject({ ok: false, reason: 'budget', scopeKind: 'key', limit: 2 * UNIT, remaining: 0 });
    // And a raised budget holds at once although the caller still says 1 unit.
    await stores.keys.update(key.id, { budgetMicroUsd: 10 * UNIT });
    expect(await stores.ledger.reserve(fresh({ keyId: key.id, keyLimits: { lifetime: UNIT } }))).toMatchObject({ ok: true });
  });

  it('checks the team row budget and the key row max_concurrency', async () => {
    const stores = await open();
    const key = await stores.keys.create(newKey({ team: 'design', maxConcurrency: 5 }));
    await stores.teams.upsert({ name: 'design', budgetMicroUsd: null, budgetDailyMicroUsd: UNIT, budgetMonthlyMicroUsd: null, updatedAt: '2026-03-01T00:00:00.000Z' });
    expect(await stores.ledger.reserve(fresh({ keyId: key.id, team: 'design' }))).toMatchObject({ ok: true });
    expect(await stores.ledger.reserve(fresh({ keyId: key.id, team: 'design' }))).toMatchObject({ ok: false, reason: 'budget', scopeKind: 'team', period: 'day' });
    await stores.keys.update(key.id, { maxConcurrency: 1, team: 'design' });
    await stores.teams.upsert({ name: 'design', budgetMicroUsd: null, budgetDailyMicroUsd: null, budgetMonthlyMicroUsd: null, updatedAt: '2026-03-01T00:00:00.000Z' });
    expect(await stores.ledger.reserve(fresh({ keyId: key.id, team: 'design', inFlightLimits: { key: 10, global: null } }))).toEqual({ ok: false, reason: 'concurrency', scope: 'key', limit: 1 });
  });

  it('refuses a revoked or unknown key, and charges nothing', async () => {
    const stores = await open();
    const key = await stores.keys.create(newKey());
    await stores.keys.revoke(key.id, '2026-03-02T00:00:00.000Z');
    expect(await stores.ledger.reserve(fresh({ keyId: key.id }))).toEqual({ ok: false, reason: 'revoked' });
    expect(await stores.ledger.reserve(fresh({ keyId: 'key_nobody' }))).toEqual({ ok: false, reason: 'revoked' });
    expect(await stores.ledger.pending(10)).toEqual([]);
  });

  it('lets a retry take over an idempotency key whose first try was released not_sent, and only then', async () => {
    const stores = await open();
    const { ledger } = stores;
    const first = await ledger.reserve({ ...reserveInput({ idempotencyKey: 'k1' }), bodyHash: 'h' });
    if (!first.ok) throw new Error('first reserve refused');
    await ledger.release(first.row.id, releaseInput({ outcome: 'not_sent', httpStatus: null }));
    // Another body: still the old row (the caller refuses the reuse).
    expect(await ledger.reserve({ ...reserveInput({ idempotencyKey: 'k1' }), bodyHash: 'other' })).toMatchObject({ ok: false, reason: 'duplicate', existing: { id: first.row.id } });
    // A refused retry leaves the key with the old row.
    expect(await ledger.reserve({ ...reserveInput({ idempotencyKey: 'k1', keyLimits: { lifetime: 0 } }), bodyHash: 'h' })).toMatchObject({ ok: false, reason: 'budget' });
    expect((await ledger.findByIdempotencyKey('key_a', 'k1'))?.id).toBe(first.row.id);
    const retry = await ledger.reserve({ ...reserveInput({ idempotencyKey: 'k1' }), bodyHash: 'h' });
    expect(retry).toMatchObject({ ok: true, row: { idempotencyKey: 'k1' } });
    if (!retry.ok) return;
    expect((await ledger.findByIdempotencyKey('key_a', 'k1'))?.id).toBe(retry.row.id);
    expect(await ledger.get(first.row.id)).toMatchObject({ state: 'released', outcome: 'not_sent', idempotencyKey: null });
    // A first try the policy re-check released (it never reached fal) frees it too.
    await ledger.release(retry.row.id, releaseInput({ outcome: 'refused_policy', httpStatus: 422 }));
    const third = await ledger.reserve({ ...reserveInput({ idempotencyKey: 'k1' }), bodyHash: 'h' });
    expect(third).toMatchObject({ ok: true });
    if (!third.ok) return;
    // A first try released for another reason (fal answered) keeps its key.
    await ledger.release(third.row.id, releaseInput({ outcome: 'failed' }));
    expect(await ledger.reserve({ ...reserveInput({ idempotencyKey: 'k1' }), bodyHash: 'h' })).toMatchObject({ ok: false, reason: 'duplicate', existing: { id: third.row.id } });
  });

  it('keeps the key of a first try released after fal answered', async () => {
    const { ledger } = await open();
    const retry = await ledger.reserve({ ...reserveInput({ idempotencyKey: 'k2' }), bodyHash: 'h' });
    if (!retry.ok) throw new Error('reserve refused');
    await ledger.release(retry.row.id, releaseInput({ outcome: 'failed' }));
    expect(await ledger.reserve({ ...reserveInput({ idempotencyKey: 'k2' }), bodyHash: 'h' })).toMatchObject({ ok: false, reason: 'duplicate', existing: { id: retry.row.id } });
  });

  it('flags a settlement above its reservation as an overrun and counts it in usage', async () => {
    const { ledger } = await open();
    const a = await ledger.reserve(reserveInput({ quotedMicro: UNIT }));
    const b = await ledger.reserve(reserveInput({ quotedMicro: UNIT }));
    if (!a.ok || !b.ok) throw new Error('reserve refused');
    expect(a.row.overrun).toBe(false);
    await ledger.settle(a.row.id, settleInput(2 * UNIT, { source: 'billable_units', billedUnits: 2 }));
    await ledger.settle(b.row.id, settleInput(UNIT));
    expect(await ledger.get(a.row.id)).toMatchObject({ overrun: true, settledMicro: 2 * UNIT, quotedMicro: UNIT });
    expect(await ledger.get(b.row.id)).toMatchObject({ overrun: false });
    expect(await usageTotals(ledger)).toMatchObject([{ requests: 2, spentMicro: 3 * UNIT, overruns: 1 }]);
    // The key is now past any budget of 2 units: its next reservation, whatever its size, is refused.
    expect(await ledger.reserve(reserveInput({ quotedMicro: 1, keyLimits: { lifetime: 2 * UNIT } }))).toMatchObject({ ok: false, reason: 'budget', remaining: 0 });
  });
});
