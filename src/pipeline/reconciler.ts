/**
 * Finishes ledger rows nobody else will: queue requests nobody polls, and rows left `reserved` by a
 * process that died (start-up recovery is simply the first pass). Rows are shared by every instance,
 * so each is judged by what it records itself (issue #9, items 8 and 9c), never by this instance's
 * config. Each pass:
 * - a row whose settlement this instance holds in memory (ledger-retry.ts) is left alone;
 * - a queue request with a fal id: ask its status (through the coalescer); settle if COMPLETED;
 * - a row still in phase `reserved` (its fal call never left) for over UNSENT_GRACE_MS: released,
 *   outcome `not_sent` (only if still unsent: the owning instance's markSent races this safely);
 * - a row in phase `sent` past its own deadline (the sending instance's timeout + grace) with no
 *   fal id to follow: fal may have run it, so settled at its quote, flagged `recovered`, unverified;
 * - idempotency keys older than 24 h stop deduplicating.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { LedgerRow } from '../store/ledger-store.js';
import { settleUnknown } from './accounting.js';
import type { PipelineContext } from './context.js';
import { IDEMPOTENCY_TTL_MS } from './idempotency.js';
import type { QueueSettler } from './queue-settler.js';

/** For rows from before upstream phases (no deadline recorded): this instance's timeout + this. */
const LEGACY_GRACE_MS = 5_000;
/** A live instance marks a row sent right after reserving it; one still unsent after this is orphaned. */
export const UNSENT_GRACE_MS = 10_000;

export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly ctx: PipelineContext,
    private readonly settler: QueueSettler,
    private readonly log: FastifyBaseLogger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    void this.pass();
    this.timer = setInterval(() => void this.pass(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; concurrent calls share it. */
  pass(): Promise<void> {
    this.running ??= this.work()
      .catch((err: unknown) => this.log.warn({ err }, 'reconciler pass failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async work(): Promise<void> {
    const now = this.ctx.now().getTime();
    const rows = await this.ctx.stores.ledger.pending(1000);
    for (const row of rows) {
      if (this.ctx.ledgerRetry.holds(row.id)) continue;
      if (row.operation === 'submit' && row.falRequestId !== null) {
        try {
          const snap = await this.ctx.statuses.get(row.falRequestId, false);
          if (snap.terminal) await this.settler.settle(row.falRequestId);
        } catch (err) {
          this.log.debug({ err, falRequestId: row.falRequestId }, 'reconciler status check failed');
        }
      } else if (row.upstreamPhase === 'reserved') {
        if (now - Date.parse(row.createdAt) <= UNSENT_GRACE_MS) continue;
        const released = await this.ctx.stores.ledger.release(row.id, { outcome: 'not_sent', httpStatus: null, at: new Date(now).toISOString(), onlyUnsent: true });
        if (released) this.log.warn({ ledgerId: row.id, keyId: row.keyId }, 'released an orphaned reservation fal never saw');
      } else if (now > this.deadlineOf(row)) {
        await settleUnknown(this.ctx, row, true, 'recovered');
        this.log.warn({ ledgerId: row.id, keyId: row.keyId }, 'settled an orphaned reservation at its quote');
      }
    }
    await this.ctx.stores.idempotency.expire(new Date(now - IDEMPOTENCY_TTL_MS).toISOString());
  }

  /** The row's own deadline; rows from before phases were recorded fall back to this instance's timeouts. */
  private deadlineOf(row: LedgerRow): number {
    if (row.deadlineAt !== null) return Date.parse(row.deadlineAt);
    const timeout = row.operation === 'run' ? this.ctx.config.runTimeoutMs : this.ctx.config.pollTimeoutMs;
    return Date.parse(row.createdAt) + timeout + LEGACY_GRACE_MS;
  }
}
