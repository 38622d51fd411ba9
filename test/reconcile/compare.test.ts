/** The bucket rules of reconciliation-compare.ts, table by table (docs/reconciliation.md). */
import { describe, expect, it } from 'vitest';
import { compareBuckets } from '../../src/services/reconciliation-compare.js';
import type { LedgerRow } from '../../src/store/ledger-store.js';
import type { FalUsageBucket } from '../../src/upstream/fal-platform.js';

const H = 3_600_000;
const T = Date.parse('2026-03-10T10:00:00.000Z');
const NOW = T + 10 * H;

function row(id: string, createdAt: number, settledAt: number | null, over: Partial<LedgerRow> = {}): LedgerRow {
  return {
    id, keyId: 'k', team: null, operation: 'run', falRequestId: `fal_${id}`, idempotencyKey: null, bodyHash: null,
    state: settledAt === null ? 'reserved' : 'settled', outcome: 'ok', quotedMicro: 20_000, settledMicro: settledAt === null ? null : 20_000,
    requestedMegapixels: 1, billedUnits: settledAt === null ? null : 1, settleSource: 'billable_units', verified: true, httpStatus: 200,
    endUser: null, tokenId: null, images: 1, createdAt: new Date(createdAt).toISOString(), settledAt: settledAt === null ? null : new Date(settledAt).toISOString(),
    upstreamPhase: 'sent', deadlineAt: null, unitPriceMicro: 20_000, overrun: false, ...over,
  };
}
const fal = (entries: [number, number][]): Map<number, FalUsageBucket> => new Map(entries.map(([start, units]) => [start, { start, units, costMicro: units * 20_000 }]));
const decide = (rows: LedgerRow[], usage: [number, number][], starts = [T, T + H], now = NOW) => compareBuckets({ size: 'hour', starts, fal: fal(usage), rows, now, lagMs: H });

describe('compareBuckets', () => {
  it('matches equal buckets and calls fal\'s extra units a difference, naming the row with those units', () => {
    const rows = [row('a', T + 60_000, T + 61_000), row('b', T + 120_000, T + 121_000, { billedUnits: 2, settledMicro: 40_000 })];
    const [b] = decide(rows, [[T, 5]], [T]);
    expect(b).toMatchObject({ status: 'difference', diffUnits: 2, diffMicro: 40_000 });
    expect(b?.rows.map((r) => [r.ledgerId, r.reason])).toEqual([['b', 'units_equal_difference']]);
    expect(decide(rows, [[T, 3]], [T])[0]?.status).toBe('matched');
  });

  it('matches a call that straddles a boundary, but not a surplus larger than the straddling rows carry', () => {
    const straddler = row('s', T + H - 5_000, T + H + 5_000);
    const ok = decide([straddler], [[T, 1]]);
    expect(ok.map((b) => b.status)).toEqual(['matched', 'matched']);
    expect(ok[1]?.rows.map((r) => r.reason)).toEqual(['boundary']);
    // fal has 2 units in 10:00 and −1 in 11:00: one straddling unit cannot explain that.
    const bad = decide([straddler], [[T, 2]]);
    expect(bad.map((b) => b.status)).toEqual(['difference', 'difference']);
    // A row that started after the boundary cannot have been billed before it.
    expect(decide([row('late', T + H + 1_000, T + H + 5_000)], [[T, 1]]).map((b) => b.status)).toEqual(['difference', 'difference']);
  });

  it('keeps buckets pending while young or while a row created before their end is still reserved', () => {
    const young = decide([row('a', T + 60_000, T + 61_000)], [[T, 1]], [T], T + H + 1_000);
    expect(young[0]).toMatchObject({ status: 'pending' });
    const open = decide([row('open', T + 30 * 60_000, null)], [], [T, T + H]);
    expect(open.map((b) => b.status)).toEqual(['pending', 'pending']);
    expect(open[0]?.rows).toMatchObject([{ ledgerId: 'open', reason: 'reserved' }]);
    // Its surplus may be in the next bucket's straddling rows, but that bucket is not judged: pending.
    expect(decide([row('s', T + H - 5_000, T + H + 5_000)], [[T, 1]], [T, T + H], T + 2 * H + 1_000).map((b) => b.status)).toEqual(['pending', 'pending']);
  });

  it('names unverified, recovered and overrun rows and released rows fal ran when a bucket differs', () => {
    const rows = [
      row('q', T + 1_000, T + 2_000, { billedUnits: null, verified: false, settleSource: 'quote' }),
      row('r', T + 3_000, T + 4_000, { outcome: 'recovered', billedUnits: null, verified: false }),
      row('o', T + 5_000, T + 6_000, { overrun: true, billedUnits: 3, settledMicro: 60_000 }),
      row('x', T + 7_000, T + 8_000, { state: 'released', settledMicro: null, billedUnits: null }),
    ];
    const [b] = decide(rows, [[T, 9]], [T]);
    expect(b?.status).toBe('difference');
    expect(b?.rows.map((r) => [r.ledgerId, r.reason])).toEqual([['q', 'unverified'], ['r', 'recovered'], ['o', 'overrun'], ['x', 'released']]);
  });

  it('treats a µUSD gap of rounding size with equal units as matched, a larger one as a difference', () => {
    const rows = [row('a', T + 1_000, T + 2_000, { settledMicro: 20_001 })];
    expect(decide(rows, [[T, 1]], [T])[0]?.status).toBe('matched');
    expect(decide([row('a', T + 1_000, T + 2_000, { settledMicro: 25_000 })], [[T, 1]], [T])[0]).toMatchObject({ status: 'difference', diffUnits: 0, diffMicro: -5_000 });
  });
});
