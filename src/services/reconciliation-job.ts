/**
 * The scheduled reconciliation (RECONCILE_USAGE_INTERVAL_MS, only with FAL_ADMIN_KEY): every tick
 * re-checks a trailing window long enough to revisit buckets that were pending, so a late bucket is
 * decided on a later run (and replaced, never added to). One instance at a time: a tick first
 * takes the `reconcile_usage` lease in the shared database for one interval; the holder renews it
 * each tick, another instance takes over only after it lapses (the holder stopped or died).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { BucketSize, ReconciliationStore } from '../store/reconciliation-store.js';
import { BUCKET_MS } from './reconciliation-compare.js';
import { GatewayError } from '../errors.js';
import { RUN_IN_PROGRESS, type ReconcileResult, type ReconciliationService } from './reconciliation.js';

export const LEASE_NAME = 'reconcile_usage';
/** Trailing buckets re-checked each tick, beyond the settle lag: two days of hours, two weeks of days. */
const TRAILING_BUCKETS: Record<BucketSize, number> = { hour: 48, day: 14 };

export class ReconciliationJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ReconcileResult | null> | undefined;
  readonly holder = `instance-${randomUUID()}`;

  constructor(
    private readonly service: ReconciliationService,
    private readonly store: ReconciliationStore,
    private readonly opts: { intervalMs: number; lagMs: number; size: BucketSize; now: () => Date; log: FastifyBaseLogger },
  ) {}

  start(): void {
    if (this.opts.intervalMs <= 0) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One tick: null when another instance holds the lease, another run is in progress, or the run failed (logged). Concurrent calls share it. */
  tick(): Promise<ReconcileResult | null> {
    this.running ??= this.work()
      .catch((err: unknown) => {
        if (err instanceof GatewayError && err.detail === RUN_IN_PROGRESS) {
          this.opts.log.info('reconciliation: scheduled run skipped, another run is in progress (the next tick re-checks the window)');
          return null;
        }
        // The message of a Platform error is written to be safe (no key); nothing else is added.
        this.opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'reconciliation: scheduled run failed');
        return null;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async work(): Promise<ReconcileResult | null> {
    const now = this.opts.now();
    const until = new Date(now.getTime() + Math.max(this.opts.intervalMs, 60_000));
    if (!(await this.store.claimLease(LEASE_NAME, this.holder, now.toISOString(), until.toISOString()))) return null;
    const span = BUCKET_MS[this.opts.size];
    const to = new Date(Math.floor(now.getTime() / span) * span + span);
    const from = new Date(to.getTime() - (TRAILING_BUCKETS[this.opts.size] * span + Math.ceil(this.opts.lagMs / span) * span));
    const result = await this.service.run(from, to, this.opts.size);
    this.opts.log.info({ from: result.from, to: result.to, matched: result.matched, differences: result.differences, pending: result.pending }, 'reconciliation: scheduled run');
    return result;
  }
}
