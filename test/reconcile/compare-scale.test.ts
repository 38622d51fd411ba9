/**
 * compareBuckets at the size of the longest run (2,200 hourly buckets): the work must grow with
 * rows + buckets, not rows × buckets (which blocked the event loop for seconds). Counted as reads of
 * the rows' fields through a Proxy, never timed. And a run reads the ledger (the SQL store, on an
 * in-memory SQLite) a chunk at a time, so it never holds a whole long window's rows, with the same
 * decisions across chunk edges.
 */
import { expect, it } from 'vitest';
import { countersFor, NO_LIMITS } from '../../src/domain/budgets.js';
import { bucketStarts, compareBuckets } from '../../src/services/reconciliation-compare.js';
import { MAX_BUCKETS, ReconciliationService } from '../../src/services/reconciliation.js';
import type { LedgerRow, LedgerStore } from '../../src/store/ledger-store.js';
import { memoryStores } from '../../src/store/stores.js';

const H = 3_600_000;
const END = Date.parse('2026-12-01T00:00:00.000Z');

function row(i: number, createdAt: number, state: LedgerRow['state']): LedgerRow {
  const settled = state !== 'reserved';
  return {
    id: `r${i}`, keyId: 'k', team: null, operation: 'run', falRequestId: `fal_${i}`, idempotencyKey: null, bodyHash: null,
    state, outcome: 'ok', quotedMicro: 20_000, settledMicro: state === 'settled' ? 20_000 : null, requestedMegapixels: 1,
    billedUnits: state === 'settled' ? 1 : null, settleSource: 'billable_units', verified: true, httpStatus: 200, endUser: null, tokenId: null, images: 1,
    createdAt: new Date(createdAt).toISOString(), settledAt: settled ? new Date(createdAt + 1_000).toISOString() : null,
    upstreamPhase: 'sent', deadlineAt: null, unitPriceMicro: 20_000, overrun: false,
  };
}

it('reads each row a bounded number of times over 2,200 hourly buckets', () => {
  const buckets = MAX_BUCKETS;
  const start = END - buckets * H;
  const n = 3_000;
  let reads = 0;
  const rows = Array.from({ length: n }, (_, i) => {
    const state: LedgerRow['state'] = i % 50 === 0 ? 'released' : i === n - 1 ? 'reserved' : 'settled';
    return new Proxy(row(i, start + Math.floor((i / n) * buckets * H), state), {
      get(target, prop, receiver) {
        reads++;
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
  });
  const starts = bucketStarts(start, END, 'hour');
  // fal billed one unit more in every bucket: every bucket that is judged differs and is explained.
  const fal = new Map(starts.map((s) => [s, { start: s, units: 3, costMicro: 60_000 }]));
  const out = compareBuckets({ size: 'hour', starts, fal, rows, now: END + 10 * H, lagMs: H });
  expect(out).toHaveLength(buckets);
  expect(out.filter((b) => b.status === 'difference').length).toBeGreaterThan(buckets / 2);
  // The last row is still reserved: the bucket it was created in (and later ones) stay pending.
  expect(out.at(-1)).toMatchObject({ status: 'pending', rows: [{ ledgerId: `r${n - 1}`, reason: 'reserved' }] });
  // A few dozen field reads per row, whatever the bucket count; rows × buckets would be millions.
  expect(reads).toBeLessThan(40 * (n + buckets));
});

/** A generation of one unit that fal billed: reserved at `createdAt`, settled at `settledAt`. */
async function billed(ledger: LedgerStore, id: string, createdAt: number, settledAt: number): Promise<void> {
  const at = new Date(createdAt);
  const reserved = await ledger.reserve({
    id, keyId: 'k', team: null, operation: 'run', quotedMicro: 20_000, requestedMegapixels: 1, counters: countersFor('k', NO_LIMITS, null, NO_LIMITS, at, null),
    idempotencyKey: null, bodyHash: null, endUser: null, tokenId: null, images: 1, unitPriceMicro: 20_000, at: at.toISOString(),
  });
  expect(reserved.ok).toBe(true);
  const settled = await ledger.settle(id, {
    amountMicro: 20_000, falRequestId: `fal_${id}`, billedUnits: 1, source: 'billable_units', verified: true, outcome: 'ok', httpStatus: 200, at: new Date(settledAt).toISOString(),
  });
  expect(settled).toBe(true);
}

it('reads the ledger a day of buckets at a time and decides them as one pass would', async () => {
  const days = 10;
  const start = END - days * 24 * H;
  const { ledger, reconciliation: store } = memoryStores();
  // One settled row per hour, plus one that straddles each midnight (started before, settled after),
  // which fal billed in the bucket before: the chunk edges fall on these boundaries.
  for (let h = 0; h < days * 24; h++) await billed(ledger, `r${h}`, start + h * H + 60_000, start + h * H + 61_000);
  const usage = new Map<number, { start: number; units: number; costMicro: number }>();
  for (let h = 0; h < days * 24; h++) usage.set(start + h * H, { start: start + h * H, units: 1, costMicro: 20_000 });
  for (let d = 1; d < days; d++) {
    const midnight = start + d * 24 * H;
    await billed(ledger, `r${10_000 + d}`, midnight - 5_000, midnight + 5_000);
    const before = usage.get(midnight - H);
    if (before) usage.set(midnight - H, { ...before, units: 2, costMicro: 40_000 });
  }
  const reads: number[] = [];
  const read = store.ledgerRows.bind(store);
  store.ledgerRows = async (from, to) => {
    const got = await read(from, to);
    reads.push(got.length);
    return got;
  };
  const service = new ReconciliationService({
    platform: { usage: () => Promise.resolve(usage), price: () => Promise.resolve(null) },
    store,
    lagMs: H,
    now: () => new Date(END + 10 * H),
  });
  const result = await service.run(new Date(start), new Date(END), 'hour');
  expect(result.buckets).toHaveLength(days * 24);
  expect(result).toMatchObject({ matched: days * 24, differences: 0, pending: 0 });
  // Every midnight straddler is named in the bucket after its boundary, whichever chunk decided it.
  const named = result.buckets.flatMap((b) => b.rows.map((r) => r.ledgerId)).sort();
  expect(named).toEqual(Array.from({ length: days - 1 }, (_, d) => `r${10_001 + d}`).sort());
  // No read held more than about a day's rows (plus the neighbour buckets), never the whole window.
  expect(Math.max(...reads)).toBeLessThan(30 + days);
  expect(reads.length).toBe(days);
});
