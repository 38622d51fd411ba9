/**
 * Usage aggregation (the usage grid's totals), on every database: which rows count, the key/team/time/end-user
 * filters, and grouping by UTC day, key or end user. Amounts are chosen so float sums are exact in every backend.
 */
import { expect, it } from 'vitest';
import type { LedgerStore } from '../../src/store/ledger-store.js';
import { releaseInput, reserveInput, settleInput, UNIT, usageTotals, type ReserveSpec } from './ledger-fixtures.js';
import { describeBackends } from './store-backends.js';

const empty = { requests: 0, spentMicro: 0, reservedMicro: 0, megapixels: 0, billedUnits: 0, overruns: 0 };

async function reserve(ledger: LedgerStore, spec: ReserveSpec): Promise<string> {
  const result = await ledger.reserve(reserveInput(spec));
  if (!result.ok) throw new Error(`expected a reservation, got ${result.reason}`);
  return result.row.id;
}

/**
 * key_a (team design): settled 2 MP on 14 Mar at 1.5 units (alice), still reserved 1 MP on 15 Mar (bob), released on 15 Mar (alice).
 * key_b (team design): settled 0.5 MP on 15 Mar 23:59:59.999 (alice). key_c (no team): settled 4 MP on 16 Mar (no end user).
 */
async function seed(ledger: LedgerStore): Promise<void> {
  const a1 = await reserve(ledger, { keyId: 'key_a', team: 'design', quotedMicro: 2 * UNIT, requestedMegapixels: 2, at: '2026-03-14T10:00:00.000Z', endUser: 'alice' });
  await ledger.settle(a1, settleInput(2 * UNIT - 5, { billedUnits: 1.5, source: 'billable_units' }));
  await reserve(ledger, { keyId: 'key_a', team: 'design', quotedMicro: UNIT, requestedMegapixels: 1, at: '2026-03-15T09:00:00.000Z', endUser: 'bob' });
  const a3 = await reserve(ledger, { keyId: 'key_a', team: 'design', quotedMicro: 8 * UNIT, requestedMegapixels: 8, at: '2026-03-15T10:00:00.000Z', endUser: 'alice' });
  await ledger.release(a3, releaseInput());
  const b1 = await reserve(ledger, { keyId: 'key_b', team: 'design', quotedMicro: UNIT, requestedMegapixels: 0.5, at: '2026-03-15T23:59:59.999Z', endUser: 'alice' });
  await ledger.settle(b1, settleInput(UNIT / 2, { billedUnits: 0.5 }));
  const c1 = await reserve(ledger, { keyId: 'key_c', quotedMicro: 4 * UNIT, requestedMegapixels: 4, at: '2026-03-16T00:00:00.000Z' });
  await ledger.settle(c1, settleInput(4 * UNIT));
}

describeBackends('Ledger usage', (fresh) => {
  const make = async () => (await (await fresh()).open()).ledger;

  it('returns one all-zero row without grouping, and no rows when grouping, for an empty ledger', async () => {
    const ledger = await make();
    expect(await usageTotals(ledger)).toEqual([{ group: 'all', ...empty }]);
    expect(await usageTotals(ledger, { groupBy: 'day' })).toEqual([]);
    expect(await usageTotals(ledger, { groupBy: 'key' })).toEqual([]);
    expect(await usageTotals(ledger, { groupBy: 'end_user' })).toEqual([]);
  });

  it('counts settled and reserved rows, spend and megapixels of settled rows, and leaves released rows out', async () => {
    const ledger = await make();
    await seed(ledger);
    expect(await usageTotals(ledger)).toEqual([
      { group: 'all', requests: 4, spentMicro: 2 * UNIT - 5 + UNIT / 2 + 4 * UNIT, reservedMicro: UNIT, megapixels: 6.5, billedUnits: 2, overruns: 0 },
    ]);
  });

  it('filters by key, by team, and by an inclusive from and exclusive to', async () => {
    const ledger = await make();
    await seed(ledger);
    expect(await usageTotals(ledger, { keyId: 'key_a' })).toEqual([
      { group: 'all', requests: 2, spentMicro: 2 * UNIT - 5, reservedMicro: UNIT, megapixels: 2, billedUnits: 1.5, overruns: 0 },
    ]);
    expect((await usageTotals(ledger, { team: 'design' }))[0]).toMatchObject({ requests: 3, spentMicro: 2 * UNIT - 5 + UNIT / 2 });
    const day15 = await usageTotals(ledger, { from: '2026-03-15T00:00:00.000Z', to: '2026-03-16T00:00:00.000Z' });
    expect(day15).toEqual([{ group: 'all', requests: 2, spentMicro: UNIT / 2, reservedMicro: UNIT, megapixels: 0.5, billedUnits: 0.5, overruns: 0 }]);
    expect((await usageTotals(ledger, { from: '2026-03-16T00:00:00.000Z' }))[0]).toMatchObject({ requests: 1, spentMicro: 4 * UNIT });
    expect(await usageTotals(ledger, { keyId: 'key_nobody' })).toEqual([{ group: 'all', ...empty }]);
  });

  it('groups by UTC day in ascending order', async () => {
    const ledger = await make();
    await seed(ledger);
    expect(await usageTotals(ledger, { groupBy: 'day' })).toEqual([
      { group: '2026-03-14', requests: 1, spentMicro: 2 * UNIT - 5, reservedMicro: 0, megapixels: 2, billedUnits: 1.5, overruns: 0 },
      { group: '2026-03-15', requests: 2, spentMicro: UNIT / 2, reservedMicro: UNIT, megapixels: 0.5, billedUnits: 0.5, overruns: 0 },
      { group: '2026-03-16', requests: 1, spentMicro: 4 * UNIT, reservedMicro: 0, megapixels: 4, billedUnits: 0, overruns: 0 },
    ]);
    expect((await usageTotals(ledger, { groupBy: 'day', team: 'design' })).map((r) => r.group)).toEqual(['2026-03-14', '2026-03-15']);
  });

  it('groups by key in ascending order, combined with filters', async () => {
    const ledger = await make();
    await seed(ledger);
    expect((await usageTotals(ledger, { groupBy: 'key' })).map((r) => [r.group, r.requests, r.spentMicro])).toEqual([
      ['key_a', 2, 2 * UNIT - 5],
      ['key_b', 1, UNIT / 2],
      ['key_c', 1, 4 * UNIT],
    ]);
    expect((await usageTotals(ledger, { groupBy: 'key', from: '2026-03-15T00:00:00.000Z', team: 'design' })).map((r) => r.group)).toEqual(['key_a', 'key_b']);
  });

  it('filters by end user, alone or with other filters', async () => {
    const ledger = await make();
    await seed(ledger);
    expect(await usageTotals(ledger, { endUser: 'alice' })).toEqual([
      { group: 'all', requests: 2, spentMicro: 2 * UNIT - 5 + UNIT / 2, reservedMicro: 0, megapixels: 2.5, billedUnits: 2, overruns: 0 },
    ]);
    expect((await usageTotals(ledger, { endUser: 'alice', keyId: 'key_b' }))[0]).toMatchObject({ requests: 1, spentMicro: UNIT / 2 });
    expect((await usageTotals(ledger, { endUser: 'bob', from: '2026-03-15T00:00:00.000Z' }))[0]).toMatchObject({ requests: 1, reservedMicro: UNIT });
    expect(await usageTotals(ledger, { endUser: 'nobody' })).toEqual([{ group: 'all', ...empty }]);
  });

  it("groups by end user in ascending order, rows without one under ''", async () => {
    const ledger = await make();
    await seed(ledger);
    expect(await usageTotals(ledger, { groupBy: 'end_user' })).toEqual([
      { group: '', requests: 1, spentMicro: 4 * UNIT, reservedMicro: 0, megapixels: 4, billedUnits: 0, overruns: 0 },
      { group: 'alice', requests: 2, spentMicro: 2 * UNIT - 5 + UNIT / 2, reservedMicro: 0, megapixels: 2.5, billedUnits: 2, overruns: 0 },
      { group: 'bob', requests: 1, spentMicro: 0, reservedMicro: UNIT, megapixels: 0, billedUnits: 0, overruns: 0 },
    ]);
    expect((await usageTotals(ledger, { groupBy: 'end_user', keyId: 'key_a' })).map((r) => [r.group, r.requests])).toEqual([
      ['alice', 1],
      ['bob', 1],
    ]);
  });
});
