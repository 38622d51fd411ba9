/**
 * One contract for every ReconciliationStore adapter (SQLite, Postgres): a bucket saved
 * again replaces the earlier one; the ledger window holds the rows reconciliation needs and no
 * others; the job lease goes to exactly one of racing instances and moves only once it lapses.
 */
import { expect, it } from 'vitest';
import type { ReconciliationBucket } from '../../src/store/reconciliation-store.js';
import { describeBackends } from '../store/store-backends.js';
import { releaseInput, reserveInput, settleInput } from '../store/ledger-fixtures.js';

function bucket(start: string, over: Partial<ReconciliationBucket> = {}): ReconciliationBucket {
  const end = new Date(Date.parse(start) + 3_600_000).toISOString();
  return { size: 'hour', start, end, status: 'matched', note: null, falUnits: 2, falMicro: 40_000, ledgerUnits: 2, ledgerMicro: 40_000, diffUnits: 0, diffMicro: 0, rows: [], checkedAt: '2026-03-11T00:00:00.000Z', ...over };
}

describeBackends('ReconciliationStore', (fresh) => {
  it('replaces a bucket saved again instead of adding to it, and lists by window and size', async () => {
    const { reconciliation } = await (await fresh()).open();
    await reconciliation.save([bucket('2026-03-10T10:00:00.000Z', { status: 'pending', note: 'young' }), bucket('2026-03-10T11:00:00.000Z')]);
    const explained = { ledgerId: 'gw_1', falRequestId: 'fal_1', reason: 'units_equal_difference' as const, billedUnits: 2, settledMicro: 40_000 };
    await reconciliation.save([bucket('2026-03-10T10:00:00.000Z', { status: 'difference', falUnits: 4, diffUnits: 2, diffMicro: 40_000, rows: [explained] })]);
    await reconciliation.save([bucket('2026-03-10T00:00:00.000Z', { size: 'day', end: '2026-03-11T00:00:00.000Z' })]);
    const hours = await reconciliation.list('2026-03-10T00:00:00.000Z', '2026-03-11T00:00:00.000Z', 'hour');
    expect(hours.map((b) => [b.start, b.status, b.falUnits])).toEqual([
      ['2026-03-10T10:00:00.000Z', 'difference', 4],
      ['2026-03-10T11:00:00.000Z', 'matched', 2],
    ]);
    expect(hours[0]?.rows).toEqual([explained]);
    expect(hours[0]?.note).toBeNull();
    expect(await reconciliation.list('2026-03-10T00:00:00.000Z', '2026-03-11T00:00:00.000Z')).toHaveLength(3);
    expect(await reconciliation.list('2026-03-10T11:00:00.000Z', '2026-03-10T12:00:00.000Z', 'hour')).toHaveLength(1);
  });

  it('reads the window: rows settled or released in it, and every row still reserved created before its end', async () => {
    const { ledger, reconciliation } = await (await fresh()).open();
    const settle = async (id: string, createdAt: string, settledAt: string | null, how: 'settle' | 'release' | 'open' = 'settle'): Promise<void> => {
      const r = await ledger.reserve(reserveInput({ id, at: createdAt }));
      expect(r.ok).toBe(true);
      if (how === 'settle') await ledger.settle(id, settleInput(20_000, { at: settledAt ?? createdAt, billedUnits: 1, source: 'billable_units', verified: true }));
      if (how === 'release') await ledger.release(id, releaseInput({ at: settledAt ?? createdAt }));
    };
    await settle('before', '2026-03-10T08:00:00.000Z', '2026-03-10T08:30:00.000Z');
    await settle('in', '2026-03-10T10:10:00.000Z', '2026-03-10T10:10:01.000Z');
    await settle('queued-early', '2026-03-10T07:00:00.000Z', '2026-03-10T10:20:00.000Z');
    await settle('released', '2026-03-10T10:30:00.000Z', '2026-03-10T10:30:01.000Z', 'release');
    await settle('open-old', '2026-03-09T10:00:00.000Z', null, 'open');
    await settle('after', '2026-03-10T12:00:00.000Z', '2026-03-10T12:00:01.000Z');
    await settle('open-after', '2026-03-10T12:30:00.000Z', null, 'open');
    const rows = await reconciliation.ledgerRows('2026-03-10T10:00:00.000Z', '2026-03-10T12:00:00.000Z');
    expect(rows.map((r) => r.id).sort()).toEqual(['in', 'open-old', 'queued-early', 'released']);
    expect(rows.find((r) => r.id === 'in')).toMatchObject({ state: 'settled', billedUnits: 1, settledMicro: 20_000, settledAt: '2026-03-10T10:10:01.000Z' });
  });

  it('returns the window oldest first by created_at, ties in byte order of the id, open and settled rows interleaved', async () => {
    const { ledger, reconciliation } = await (await fresh()).open();
    const at = '2026-03-10T10:05:00.000Z';
    for (const [id, created, open] of [
      ['b-open', at, true],
      ['B-settled', at, false],
      ['a-settled', at, false],
      ['z-early', '2026-03-10T09:00:00.000Z', true],
      ['c-late', '2026-03-10T11:00:00.000Z', false],
    ] as const) {
      expect((await ledger.reserve(reserveInput({ id, at: created }))).ok).toBe(true);
      if (!open) await ledger.settle(id, settleInput(20_000, { at: '2026-03-10T11:30:00.000Z' }));
    }
    const rows = await reconciliation.ledgerRows('2026-03-10T10:00:00.000Z', '2026-03-10T12:00:00.000Z');
    expect(rows.map((r) => r.id)).toEqual(['z-early', 'B-settled', 'a-settled', 'b-open', 'c-late']);
  });

  it('gives the lease to one of two instances, renews it for its holder and hands it over once it lapses', async () => {
    const db = await fresh();
    const [a, b] = [await db.open(), await db.open()];
    const now = '2026-03-10T10:00:00.000Z';
    const until = '2026-03-10T11:00:00.000Z';
    const won = await Promise.all([a.reconciliation.claimLease('job', 'A', now, until), b.reconciliation.claimLease('job', 'B', now, until)]);
    expect(won.filter(Boolean)).toHaveLength(1);
    const [holder, other] = won[0] === true ? ['A', 'B'] : ['B', 'A'];
    expect(await a.reconciliation.claimLease('job', holder, '2026-03-10T10:30:00.000Z', '2026-03-10T11:30:00.000Z')).toBe(true);
    expect(await b.reconciliation.claimLease('job', other, '2026-03-10T11:00:00.000Z', '2026-03-10T12:00:00.000Z')).toBe(false);
    expect(await b.reconciliation.claimLease('job', other, '2026-03-10T11:30:00.000Z', '2026-03-10T12:30:00.000Z')).toBe(true);
    expect(await a.reconciliation.claimLease('job', holder, '2026-03-10T11:40:00.000Z', '2026-03-10T12:40:00.000Z')).toBe(false);
  });
});
