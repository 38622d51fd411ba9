/**
 * Finishes ledger rows nobody else will: queue requests nobody polls, and rows left `reserved` by a
 * process that died (start-up recovery is simply the first pass). Each pass:
 * - a queue request with a fal id: ask its status (through the coalescer); settle if COMPLETED;
 * - a sync run older than the longest a live instance could hold it (RUN_TIMEOUT_MS + grace): it
 *   was in flight when its process died; settled at its quote and flagged `recovered`;
 * - a submit with no fal id after POLL_TIMEOUT_MS + grace: fal may or may not have it; settled at
 *   the quote, flagged `recovered` (budgets err on the safe side);
 * - idempotency keys older than 24 h stop deduplicating.
 */
import type { FastifyBaseLogger } from 'fastify';
import { settleUnknown } from './accounting.js';
import type { PipelineContext } from './context.js';
import { IDEMPOTENCY_TTL_MS } from './idempotency.js';
import type { QueueSettler } from './queue-settler.js';

const GRACE_MS = 5_000;

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
      const age = now - Date.parse(row.createdAt);
      if (row.operation === 'submit' && row.falRequestId !== null) {
        try {
          const snap = await this.ctx.statuses.get(row.falRequestId, false);
          if (snap.terminal) await this.settler.settle(row.falRequestId);
        } catch (err) {
          this.log.debug({ err, falRequestId: row.falRequestId }, 'reconciler status check failed');
        }
      } else if (row.operation === 'run' ? age > this.ctx.config.runTimeoutMs + GRACE_MS : age > this.ctx.config.pollTimeoutMs + GRACE_MS) {
        await settleUnknown(this.ctx, row, true, 'recovered');
        this.log.warn({ ledgerId: row.id, keyId: row.keyId }, 'settled an orphaned reservation at its quote');
      }
    }
    await this.ctx.stores.idempotency.expire(new Date(now - IDEMPOTENCY_TTL_MS).toISOString());
  }
}
