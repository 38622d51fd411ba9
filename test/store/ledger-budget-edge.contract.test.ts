/**
 * The budget edge (docs/reliability.md R1/R2): a key budget that fits exactly 10 quotes and 200
 * reservations racing for it, split over two handles on one database (two connections to one
 * SQLite file, two Postgres pools) as two gateway instances would be. Overspend must be 0.
 */
import { expect, it } from 'vitest';
import type { ReserveResult } from '../../src/store/ledger-store.js';
import { reserveInput, scopeRefs, settleInput, UNIT } from './ledger-fixtures.js';
import { describeBackends } from './store-backends.js';

const BUDGET = 10 * UNIT;

describeBackends('Ledger budget edge', (fresh) => {
  it('accepts exactly 10 of 200 concurrent reservations against a budget of 10 quotes, across two handles', async () => {
    const db = await fresh();
    const [first, second] = [(await db.open({ max: 10 })).ledger, (await db.open({ max: 10 })).ledger];
    const attempt = (i: number): Promise<ReserveResult> =>
      (i % 2 === 0 ? first : second).reserve(reserveInput({ id: `req_${i}`, team: 'design', quotedMicro: UNIT, keyLimits: { lifetime: BUDGET } }));
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => attempt(i)));

    const accepted = results.flatMap((r) => (r.ok ? [r.row] : []));
    const refused = results.filter((r) => !r.ok);
    expect(accepted).toHaveLength(10);
    expect(refused).toHaveLength(190);
    for (const r of refused) expect(r).toEqual({ ok: false, reason: 'budget', scopeKind: 'key', period: 'lifetime', unit: 'micro_usd', limit: BUDGET, remaining: 0 });

    const refs = [...scopeRefs('key:key_a'), ...scopeRefs('team:design')];
    expect(await second.counterTotals(refs)).toEqual(refs.map(() => ({ spentMicro: 0, reservedMicro: BUDGET })));
    expect(await first.pending(1000)).toHaveLength(10);

    // Settle each accepted row from both handles at once: each applies exactly once.
    const settled = await Promise.all(accepted.flatMap((row) => [first, second].map((h) => h.settle(row.id, settleInput(UNIT)))));
    expect(settled.filter(Boolean)).toHaveLength(10);
    const totals = await first.counterTotals(refs);
    expect(totals).toEqual(refs.map(() => ({ spentMicro: BUDGET, reservedMicro: 0 })));
    const overspend = (totals[0]?.spentMicro ?? 0) - BUDGET;
    expect(overspend).toBe(0);
    expect(await first.reserve(reserveInput({ team: 'design', quotedMicro: 1, keyLimits: { lifetime: BUDGET } }))).toMatchObject({ ok: false, remaining: 0 });
  });

  it('lets exactly one of 20 concurrent reservations with the same idempotency key through, across two handles', async () => {
    const db = await fresh();
    const [first, second] = [(await db.open()).ledger, (await db.open()).ledger];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? first : second).reserve(reserveInput({ id: `req_${i}`, idempotencyKey: 'idem-race', keyLimits: { lifetime: BUDGET } })),
      ),
    );
    const accepted = results.flatMap((r) => (r.ok ? [r.row] : []));
    expect(accepted).toHaveLength(1);
    for (const r of results) if (!r.ok) expect(r).toEqual({ ok: false, reason: 'duplicate', existing: accepted[0] });
    expect((await first.counterTotals(scopeRefs('key:key_a')))[0]).toEqual({ spentMicro: 0, reservedMicro: UNIT });
  });
});
