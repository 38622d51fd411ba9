/**
 * In-flight caps on every LedgerStore adapter (SQLite, Postgres; see store-backends.ts):
 * a key's max_concurrency and the gateway's global cap count rows still `reserved`, checked in the
 * same atomic step as the budgets. 200 reservations race over two handles on one database (two
 * connections to one SQLite file, two Postgres pools), as two gateway instances would.
 */
import { expect, it } from 'vitest';
import type { LedgerStore, ReserveResult } from '../../src/store/ledger-store.js';
import { releaseInput, reserveInput, scopeRefs, settleInput, UNIT, type ReserveSpec } from './ledger-fixtures.js';
import { describeBackends } from './store-backends.js';

async function reserveOk(ledger: LedgerStore, spec: ReserveSpec) {
  const result = await ledger.reserve(reserveInput(spec));
  if (!result.ok) throw new Error(`expected a reservation, got ${JSON.stringify(result)}`);
  return result.row;
}

const accepted = (results: ReserveResult[]) => results.flatMap((r) => (r.ok ? [r.row] : []));

describeBackends('Ledger in-flight caps', (fresh) => {
  it('admits exactly N of 200 concurrent reservations of a key with max_concurrency N, across two handles, charging nothing for the rest', async () => {
    const db = await fresh();
    const [first, second] = [(await db.open({ max: 10 })).ledger, (await db.open({ max: 10 })).ledger];
    const limits = { key: 7, global: null };
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? first : second).reserve(reserveInput({ id: `req_${i}`, team: 'design', inFlightLimits: limits }))),
    );
    expect(accepted(results)).toHaveLength(7);
    for (const r of results.filter((x) => !x.ok)) expect(r).toEqual({ ok: false, reason: 'concurrency', scope: 'key', limit: 7 });
    const refs = [...scopeRefs('key:key_a'), ...scopeRefs('team:design')];
    expect(await second.counterTotals(refs)).toEqual(refs.map(() => ({ spentMicro: 0, reservedMicro: 7 * UNIT })));
    expect(await first.pending(1000)).toHaveLength(7);
  });

  it("frees a slot when a row is released or settled, and does not count other keys' rows", async () => {
    const db = await fresh();
    const [first, second] = [(await db.open()).ledger, (await db.open()).ledger];
    const inFlightLimits = { key: 2, global: null };
    const a1 = await reserveOk(first, { inFlightLimits });
    const a2 = await reserveOk(second, { inFlightLimits });
    expect(await first.reserve(reserveInput({ inFlightLimits }))).toEqual({ ok: false, reason: 'concurrency', scope: 'key', limit: 2 });
    await reserveOk(second, { keyId: 'key_b', inFlightLimits });
    await reserveOk(first, { keyId: 'key_b', inFlightLimits });
    expect(await second.release(a1.id, releaseInput())).toBe(true);
    await reserveOk(first, { inFlightLimits });
    expect(await first.reserve(reserveInput({ inFlightLimits }))).toMatchObject({ reason: 'concurrency', scope: 'key' });
    expect(await first.settle(a2.id, settleInput(UNIT))).toBe(true);
    await reserveOk(second, { inFlightLimits });
    expect(await second.reserve(reserveInput({ inFlightLimits }))).toMatchObject({ reason: 'concurrency', scope: 'key' });
    // Without a cap the same key is not limited.
    await reserveOk(first, {});
  });

  it('admits exactly N of 200 concurrent reservations across 10 keys under a global cap N, across two handles', async () => {
    const db = await fresh();
    const [first, second] = [(await db.open({ max: 10 })).ledger, (await db.open({ max: 10 })).ledger];
    const limits = { key: null, global: 9 };
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? first : second).reserve(reserveInput({ id: `req_${i}`, keyId: `key_${i % 10}`, inFlightLimits: limits }))),
    );
    const rows = accepted(results);
    expect(rows).toHaveLength(9);
    for (const r of results.filter((x) => !x.ok)) expect(r).toEqual({ ok: false, reason: 'concurrency', scope: 'global', limit: 9 });
    const totals = await first.counterTotals(Array.from({ length: 10 }, (_, k) => ({ scope: `key:key_${k}`, bucket: 'all' })));
    expect(totals.reduce((sum, t) => sum + t.reservedMicro, 0)).toBe(9 * UNIT);

    const [freed] = rows;
    if (!freed) throw new Error('no accepted row');
    expect(await second.release(freed.id, releaseInput())).toBe(true);
    await reserveOk(first, { keyId: 'key_new', inFlightLimits: limits });
    expect(await second.reserve(reserveInput({ keyId: 'key_other', inFlightLimits: limits }))).toEqual({ ok: false, reason: 'concurrency', scope: 'global', limit: 9 });
  });

  it('reports a budget refusal before a cap, and the key cap before the global one', async () => {
    const ledger = (await (await fresh()).open()).ledger;
    const inFlightLimits = { key: 1, global: 1 };
    await reserveOk(ledger, { inFlightLimits });
    expect(await ledger.reserve(reserveInput({ inFlightLimits, keyLimits: { day: 0 } }))).toMatchObject({ reason: 'budget', scopeKind: 'key', period: 'day' });
    expect(await ledger.reserve(reserveInput({ inFlightLimits }))).toEqual({ ok: false, reason: 'concurrency', scope: 'key', limit: 1 });
    expect(await ledger.reserve(reserveInput({ keyId: 'key_b', inFlightLimits }))).toEqual({ ok: false, reason: 'concurrency', scope: 'global', limit: 1 });
    expect((await ledger.counterTotals(scopeRefs('key:key_a')))[0]).toEqual({ spentMicro: 0, reservedMicro: UNIT });
  });

  it('answers a repeated idempotency key as a duplicate even when the key is at its cap', async () => {
    const ledger = (await (await fresh()).open()).ledger;
    const inFlightLimits = { key: 1, global: 1 };
    const first = await reserveOk(ledger, { idempotencyKey: 'idem-1', inFlightLimits });
    expect(await ledger.reserve(reserveInput({ idempotencyKey: 'idem-1', inFlightLimits }))).toEqual({ ok: false, reason: 'duplicate', existing: first });
  });
});
