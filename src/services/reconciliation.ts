/**
 * Reconciliation of the ledger against fal's bill (issue #14, docs/reconciliation.md): for a window
 * and a bucket size, fal's usage for this endpoint per UTC bucket against the ledger's settled
 * units and µUSD, decided by reconciliation-compare.ts and stored per bucket (a re-run replaces).
 *
 * One neighbour bucket is fetched and compared on each side of the window and then dropped, so a
 * request that straddles the window's edge is matched like any other boundary case. A difference
 * that is new (the bucket was not already recorded with the same difference) raises the operator
 * alert once, whichever entry point ran it.
 *
 * One run at a time across every entry point (admin API, CLI, scheduled job) and instance: a run
 * holds the `reconcile_usage_run` lease in the shared database while it works, so two runs never
 * raise the same new difference twice, and an older snapshot never overwrites a newer one. The
 * scheduled job's own `reconcile_usage` lease (which instance runs the schedule) is held between
 * ticks, so it cannot serve as this one without refusing every admin run while a schedule is on.
 */
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../errors.js';
import { FalPlatformError, type FalPlatform } from '../upstream/fal-platform.js';
import type { BucketSize, ReconciliationBucket, ReconciliationStore } from '../store/reconciliation-store.js';
import type { AdminAction } from './audit.js';
import { BUCKET_MS, bucketStarts, compareBuckets } from './reconciliation-compare.js';

export const RUN_LEASE_NAME = 'reconcile_usage_run';
/**
 * How long a run's lease lasts when its holder dies before releasing it: far above a normal run
 * (a few Platform API pages), so a slow run is not overtaken; a crashed one blocks for this long.
 */
export const RUN_LEASE_MS = 15 * 60_000;
export const RUN_IN_PROGRESS = 'Another reconciliation run (the scheduled job, the CLI or an admin) is in progress; try again when it has finished';

/**
 * Buckets compared per chunk, each chunk with its own ledger read: a run holds one chunk's rows in
 * memory (a day of hours, a week of days), not the whole window's. Chunks give the same answer as
 * one pass: each is read and compared with one neighbour bucket on each side (then dropped), and
 * a bucket's decision depends only on itself and its two neighbours (reconciliation-compare.ts).
 */
const CHUNK_BUCKETS: Record<BucketSize, number> = { hour: 24, day: 7 };

/** Enough for 90 days of hours; a longer look is a day-bucket question. */
export const MAX_BUCKETS = 2_200;

export interface ReconcileResult {
  from: string;
  to: string;
  size: BucketSize;
  buckets: ReconciliationBucket[];
  matched: number;
  differences: number;
  pending: number;
}

export interface ReconciliationDeps {
  /** Null when FAL_ADMIN_KEY is unset: runs are refused with a clear error. */
  platform: FalPlatform | null;
  store: ReconciliationStore;
  lagMs: number;
  now: () => Date;
  /** Called for each bucket whose difference is new in this run (alert, metric). */
  onDifference?: (bucket: ReconciliationBucket) => void;
  /** Called after every run with its counts (metric). */
  onRun?: (result: ReconcileResult) => void;
}

export class ReconciliationService {
  constructor(private readonly deps: ReconciliationDeps) {}

  /** Reconciles [from, to) widened to whole UTC buckets. Throws GatewayError for the caller's edge. */
  async run(from: Date, to: Date, size: BucketSize): Promise<ReconcileResult> {
    const platform = this.deps.platform;
    if (platform === null) throw new GatewayError('conflict', 'Reconciliation needs FAL_ADMIN_KEY (an ADMIN-scope fal key for the usage API); it is not set');
    const span = BUCKET_MS[size];
    if (!(from.getTime() < to.getTime())) throw new GatewayError('bad_request', '`from` must be before `to`');
    // Counted before the list is built: a window of centuries must not allocate its buckets first.
    const count = Math.ceil(to.getTime() / span) - Math.floor(from.getTime() / span);
    if (count > MAX_BUCKETS) throw new GatewayError('bad_request', `The window holds ${count} ${size} buckets; at most ${MAX_BUCKETS} per run (use bucket=day for long windows)`);
    const store = this.deps.store;
    const holder = `run-${randomUUID()}`;
    const takenAt = this.deps.now().getTime();
    if (!(await store.claimLease(RUN_LEASE_NAME, holder, new Date(takenAt).toISOString(), new Date(takenAt + RUN_LEASE_MS).toISOString()))) {
      throw new GatewayError('conflict', RUN_IN_PROGRESS);
    }
    try {
      return await this.runHeld(platform, from, to, size);
    } finally {
      // Released by renewing it until now; if that fails the lease lapses after RUN_LEASE_MS.
      const at = this.deps.now().toISOString();
      await store.claimLease(RUN_LEASE_NAME, holder, at, at).catch(() => false);
    }
  }

  private async runHeld(platform: FalPlatform, from: Date, to: Date, size: BucketSize): Promise<ReconcileResult> {
    const span = BUCKET_MS[size];
    const starts = bucketStarts(from.getTime(), to.getTime(), size);
    const first = starts[0] ?? from.getTime();
    const last = (starts[starts.length - 1] ?? first) + span;
    const [outerFrom, outerTo] = [first - span, last + span];
    let fal;
    try {
      fal = await platform.usage(new Date(outerFrom), new Date(outerTo), size);
    } catch (err) {
      throw asGatewayError(err);
    }
    const now = this.deps.now().getTime();
    const buckets: ReconciliationBucket[] = [];
    for (let i = 0; i < starts.length; i += CHUNK_BUCKETS[size]) {
      const inner = starts.slice(i, i + CHUNK_BUCKETS[size]);
      const [lo, hi] = [(inner[0] ?? first) - span, (inner[inner.length - 1] ?? first) + span];
      const rows = await this.deps.store.ledgerRows(new Date(lo).toISOString(), new Date(hi + span).toISOString());
      buckets.push(...compareBuckets({ size, starts: [lo, ...inner, hi], fal, rows, now, lagMs: this.deps.lagMs }).slice(1, -1));
      // A long window is many chunks: let the server answer other requests between them.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const before = await this.deps.store.list(new Date(first).toISOString(), new Date(last).toISOString(), size);
    await this.deps.store.save(buckets);
    const previous = new Map(before.map((p) => [p.start, p]));
    for (const b of buckets) {
      if (b.status !== 'difference') continue;
      const prev = previous.get(b.start);
      if (prev?.status === 'difference' && prev.diffUnits === b.diffUnits && prev.diffMicro === b.diffMicro) continue;
      this.deps.onDifference?.(b);
    }
    const result: ReconcileResult = {
      from: new Date(first).toISOString(),
      to: new Date(last).toISOString(),
      size,
      buckets,
      matched: buckets.filter((b) => b.status === 'matched').length,
      differences: buckets.filter((b) => b.status === 'difference').length,
      pending: buckets.filter((b) => b.status === 'pending').length,
    };
    this.deps.onRun?.(result);
    return result;
  }
}

/** The audit entry of a run (admin API and CLI): the window as widened, the bucket size and the counts. */
export function runAuditAction(r: ReconcileResult): AdminAction {
  return { action: 'reconciliation.run', target: `${r.size} ${r.from}/${r.to}`, before: null, after: { from: r.from, to: r.to, bucket: r.size, matched: r.matched, differences: r.differences, pending: r.pending } };
}

/** fal's failure as the gateway's error catalog says it; the message names no key. */
export function asGatewayError(err: unknown): Error {
  if (!(err instanceof FalPlatformError)) return err instanceof Error ? err : new Error(String(err));
  switch (err.kind) {
    case 'forbidden':
    case 'unauthorized':
      return new GatewayError('upstream_auth_failed', err.message);
    case 'timeout':
      return new GatewayError('upstream_timeout', err.message);
    case 'unreachable':
      return new GatewayError('upstream_unreachable', err.message);
    case 'rate_limited':
      return new GatewayError('service_unavailable', err.message, { 'retry-after': '60' });
    default:
      return new GatewayError('upstream_bad_response', err.message);
  }
}
