/**
 * The pure half of reconciliation: given fal's usage per bucket and the ledger's rows, decide each
 * bucket (docs/reconciliation.md). No I/O, so every rule is table-testable.
 *
 * - A ledger row counts in the bucket of its `settled_at`. fal bills a sync run as its answer is
 *   written and a queue job when it completes; the gateway settles after it hears of it, so fal's
 *   bucket of a request is never later than the ledger's. A row whose call started before a boundary
 *   and settled after it may be in fal's earlier bucket: when bucket i has exactly the surplus that
 *   bucket i+1 lacks, and rows of i+1 that started before the boundary carry at least that many
 *   units, both are matched and those rows are named (reason `boundary`). Anything else is a
 *   difference: the tolerance never absorbs units no straddling row could explain.
 * - A bucket is judged only when it ended at least `lagMs` ago (fal totals usage late) and no ledger
 *   row created before its end is still `reserved` (it may yet settle into it). Otherwise `pending`.
 * - µUSD: fal rounds each usage line's cost, the ledger each row's; a difference of at most one µUSD
 *   per row and line, with equal units, is rounding, not money.
 */
import type { FalUsageBucket } from '../upstream/fal-platform.js';
import type { LedgerRow } from '../store/ledger-store.js';
import type { BucketSize, ExplainingRow, ReconciliationBucket } from '../store/reconciliation-store.js';

export const BUCKET_MS: Record<BucketSize, number> = { hour: 3_600_000, day: 86_400_000 };
const UNIT_EPSILON = 1e-9;
/** At most this many rows are named per bucket: enough to act on, bounded in the database. */
const MAX_NAMED_ROWS = 25;

export interface CompareInput {
  size: BucketSize;
  /** Bucket starts to decide, ascending and contiguous (the caller adds one neighbour each side). */
  starts: number[];
  fal: Map<number, FalUsageBucket>;
  rows: LedgerRow[];
  now: number;
  lagMs: number;
}

interface Work {
  b: ReconciliationBucket;
  settled: LedgerRow[];
  released: LedgerRow[];
  judged: boolean;
}

export function compareBuckets(input: CompareInput): ReconciliationBucket[] {
  const span = BUCKET_MS[input.size];
  const checkedAt = new Date(input.now).toISOString();
  const slices = sliceRows(input);
  const works: Work[] = input.starts.map((start, i) => {
    const end = start + span;
    const { settled, released } = slices.byBucket[i] ?? { settled: [], released: [] };
    const openCount = openBefore(slices.reserved, end);
    const fal = input.fal.get(start);
    const falUnits = fal?.units ?? 0;
    const falMicro = fal?.costMicro ?? 0;
    const ledgerUnits = settled.reduce((s, r) => s + (r.billedUnits ?? 0), 0);
    const ledgerMicro = settled.reduce((s, r) => s + (r.settledMicro ?? 0), 0);
    const b: ReconciliationBucket = {
      size: input.size,
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      status: 'pending',
      note: null,
      falUnits,
      falMicro,
      ledgerUnits,
      ledgerMicro,
      diffUnits: round9(falUnits - ledgerUnits),
      diffMicro: falMicro - ledgerMicro,
      rows: [],
      checkedAt,
    };
    let judged = true;
    if (end + input.lagMs > input.now) {
      judged = false;
      b.note = `ended less than the settle lag (${input.lagMs} ms) ago: fal may still be totalling it`;
    } else if (openCount > 0) {
      judged = false;
      b.note = `${openCount} ledger row(s) created before its end are still reserved`;
      b.rows = slices.reserved.slice(0, Math.min(openCount, MAX_NAMED_ROWS)).map((x) => named(x.row, 'reserved'));
    }
    return { b, settled, released, judged };
  });

  for (const w of works) if (w.judged) w.b.status = differs(w) ? 'difference' : 'matched';
  matchAcrossBoundaries(works);
  for (const w of works) if (w.b.status === 'difference') w.b.rows = explain(w);
  return works.map((w) => w.b);
}

interface Slices {
  /** Per index of `starts`: the settled and released rows whose settled_at falls in that bucket. */
  byBucket: { settled: LedgerRow[]; released: LedgerRow[] }[];
  /** Rows still reserved, oldest first, each with its created_at parsed once. */
  reserved: { row: LedgerRow; created: number }[];
}

/**
 * One pass over the rows, each timestamp parsed once: the buckets are contiguous, so a row's bucket
 * is an index computed from its settled_at. Keeps a run O(rows + buckets) however long the window.
 */
function sliceRows(input: CompareInput): Slices {
  const span = BUCKET_MS[input.size];
  const first = input.starts[0] ?? 0;
  const count = input.starts.length;
  const byBucket = input.starts.map(() => ({ settled: [] as LedgerRow[], released: [] as LedgerRow[] }));
  const reserved: Slices['reserved'] = [];
  for (const r of input.rows) {
    if (r.state === 'reserved') {
      reserved.push({ row: r, created: Date.parse(r.createdAt) });
      continue;
    }
    if (r.settledAt === null) continue;
    const i = Math.floor((Date.parse(r.settledAt) - first) / span);
    const slot = i >= 0 && i < count ? byBucket[i] : undefined;
    if (slot === undefined) continue;
    if (r.state === 'settled') slot.settled.push(r);
    else slot.released.push(r);
  }
  // Stable: rows created at the same instant keep the store's order (created_at, id).
  reserved.sort((a, b) => a.created - b.created);
  return { byBucket, reserved };
}

/** How many reserved rows were created before `end` (they are sorted, so a binary search). */
function openBefore(reserved: Slices['reserved'], end: number): number {
  let [lo, hi] = [0, reserved.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((reserved[mid]?.created ?? Infinity) < end) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function differs(w: Work): boolean {
  if (Math.abs(w.b.diffUnits) > UNIT_EPSILON) return true;
  const roundingSlack = w.settled.length + 1;
  return Math.abs(w.b.diffMicro) > roundingSlack;
}

/** Pairs (i, i+1) where fal billed in i what the ledger settled in i+1 (see the file comment). */
function matchAcrossBoundaries(works: Work[]): void {
  for (let i = 0; i + 1 < works.length; i++) {
    const [a, next] = [works[i], works[i + 1]];
    if (a === undefined || next === undefined) continue;
    const surplus = a.b.diffUnits;
    if (!a.judged || a.b.status === 'matched' || surplus <= UNIT_EPSILON) continue;
    const boundary = Date.parse(a.b.end);
    const straddling = next.settled.filter((r) => Date.parse(r.createdAt) < boundary);
    const straddlingUnits = straddling.reduce((s, r) => s + (r.billedUnits ?? 0), 0);
    if (straddlingUnits + UNIT_EPSILON < surplus) continue;
    if (!next.judged) {
      // The neighbour may still change: judge the pair together on a later run.
      a.b.status = 'pending';
      a.b.note = `${surplus} unit(s) may belong to rows settled in the next bucket, which is not judged yet`;
      continue;
    }
    const cancels = Math.abs(surplus + next.b.diffUnits) <= UNIT_EPSILON && Math.abs(a.b.diffMicro + next.b.diffMicro) <= a.settled.length + next.settled.length + 2;
    if (!cancels || next.b.status !== 'difference') continue;
    const rows = straddling.slice(0, MAX_NAMED_ROWS).map((r) => named(r, 'boundary'));
    a.b.status = 'matched';
    next.b.status = 'matched';
    a.b.note = `${surplus} unit(s) fal billed here were settled by the ledger just after ${a.b.end} (rows named in the next bucket)`;
    next.b.note = `${surplus} unit(s) settled here were billed by fal in the bucket before (calls that straddled ${a.b.end})`;
    next.b.rows = rows;
  }
}

/** The ledger rows that can explain a difference, most specific first. */
function explain(w: Work): ExplainingRow[] {
  const out: ExplainingRow[] = [];
  const add = (r: LedgerRow, reason: ExplainingRow['reason']): void => {
    if (out.length < MAX_NAMED_ROWS && !out.some((o) => o.ledgerId === r.id)) out.push(named(r, reason));
  };
  const gap = Math.abs(w.b.diffUnits);
  // fal billed more: a request whose own units equal the surplus is the first suspect (billed twice).
  if (w.b.diffUnits > UNIT_EPSILON) for (const r of w.settled) if (r.billedUnits !== null && Math.abs(r.billedUnits - gap) <= UNIT_EPSILON) add(r, 'units_equal_difference');
  // The most telling reason first: a recovered row is also unverified (charged at its quote).
  for (const r of w.settled) {
    if (r.outcome === 'recovered') add(r, 'recovered');
    if (r.overrun) add(r, 'overrun');
    if (r.verified === false) add(r, 'unverified');
  }
  // Released with a fal id: fal ran it, the ledger charged nothing; fal may have billed it.
  if (w.b.diffUnits > UNIT_EPSILON) for (const r of w.released) if (r.falRequestId !== null) add(r, 'released');
  return out;
}

function named(r: LedgerRow, reason: ExplainingRow['reason']): ExplainingRow {
  return { ledgerId: r.id, falRequestId: r.falRequestId, reason, billedUnits: r.billedUnits, settledMicro: r.settledMicro };
}

function round9(n: number): number {
  return Math.round(n * 1e9) / 1e9;
}

/** Bucket starts covering [from, to), aligned to UTC buckets of `size`. */
export function bucketStarts(from: number, to: number, size: BucketSize): number[] {
  const span = BUCKET_MS[size];
  const out: number[] = [];
  for (let t = Math.floor(from / span) * span; t < to; t += span) out.push(t);
  return out;
}
