/**
 * Finishes ledger rows nobody else will: queue requests nobody polls, and rows left `reserved` by a
 * process that died (start-up recovery is simply the first pass). Rows are shared by every instance,
 * so each is judged by what it records itself (issue #9, items 8 and 9c), never by this instance's
 * config. Each pass:
 * - a row whose settlement this instance holds in memory (ledger-retry.ts) is left alone;
 * - a queue request registered with the gateway's webhook (webhooks/webhook-polls.ts): its status
 *   is not polled until it is WEBHOOK_POLL_FALLBACK_MS old, since fal's delivery settles it;
 * - a queue request with a fal id: ask its status (through the coalescer); settle if COMPLETED
 *   (queue-settler.ts decides whether the result is fal's outcome); if fal answers 404 for it well
 *   after the submit, or it is still unfinished after QUEUE_FOLLOW_MS, fal lost it: settled at its
 *   quote, flagged `recovered` (it may have run), so it stops holding an in-flight slot;
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
import { jobFailed, type QueueSettler } from './queue-settler.js';
import { skipStatusPoll } from '../webhooks/webhook-polls.js';

/** For rows from before upstream phases (no deadline recorded): this instance's timeout + this. */
const LEGACY_GRACE_MS = 5_000;
/** A live instance marks a row sent right after reserving it; one still unsent after this is orphaned. */
export const UNSENT_GRACE_MS = 10_000;
/** fal's queue knows a request as soon as its submit is answered; a 404 this long after is not a lag. */
const LOST_404_AFTER_MS = 10 * 60_000;
/** Longer than any queue wait seen on fal; a request still unfinished after it is given up on. */
const QUEUE_FOLLOW_MS = 24 * 60 * 60_000;

export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly ctx: PipelineContext,
    private readonly settler: QueueSettler,
    private readonly log: FastifyBaseLogger,
    private readonly intervalMs: number,
    /** Told each pass how many rows are reserved past their deadline (the backlog alert, app.ts). */
    private readonly onPass: (overdue: number) => void = () => undefined,
  ) {}

  start(): void {
    void this.pass();
    this.timer = setInterval(() => void this.pass(), this.intervalMs);
    this.timer.unref();
  }

  /** Ends the current pass after the row in hand (shutdown must not wait for a pass over 1000 rows). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** A followed queue request fal lost: a 404 after LOST_404_AFTER_MS, or unfinished after QUEUE_FOLLOW_MS. */
  private lost(row: LedgerRow, falStatus: number, now: number): boolean {
    const age = now - Date.parse(row.createdAt);
    return (falStatus === 404 && age > LOST_404_AFTER_MS) || age > QUEUE_FOLLOW_MS;
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
    this.onPass(rows.filter((r) => now > this.deadlineOf(r)).length);
    const registered = await this.webhookRegistrations(rows, now);
    for (const row of rows) {
      if (this.stopping) break;
      if (this.ctx.ledgerRetry.holds(row.id)) continue;
      if (row.operation === 'submit' && row.falRequestId !== null) {
        const facts = { ageMs: now - Date.parse(row.createdAt), registration: registered.get(row.id) ?? null, nowMs: now };
        if (skipStatusPoll({ ...facts, fallbackMs: this.ctx.config.webhooks.pollFallbackMs, resultTimeoutMs: this.ctx.config.pollTimeoutMs })) continue;
        try {
          const snap = await this.ctx.statuses.get(row.falRequestId, false);
          if (snap.terminal) await this.settler.settle(row.falRequestId, jobFailed(snap.body));
          else if (this.lost(row, snap.statusCode, now)) {
            // fal no longer knows the request (404 well after submit) or it never finished: it
            // may have run, so the quote is charged, flagged, and its in-flight slot is freed.
            await settleUnknown(this.ctx, row, true, 'recovered');
            this.log.warn({ ledgerId: row.id, keyId: row.keyId, falRequestId: row.falRequestId, falStatus: snap.statusCode }, 'settled a queue request fal lost at its quote');
          }
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

  /**
   * Registrations of the followed queue rows young enough to skip. A store failure skips nothing:
   * the pass polls them all, as before webhooks.
   */
  private async webhookRegistrations(rows: readonly LedgerRow[], now: number): Promise<Map<string, { receivedAt: number | null }>> {
    const fallbackMs = this.ctx.config.webhooks.pollFallbackMs;
    const young = rows.filter((r) => r.operation === 'submit' && r.falRequestId !== null && now - Date.parse(r.createdAt) < fallbackMs).map((r) => r.id);
    if (young.length === 0) return new Map();
    try {
      return await this.ctx.stores.webhooks.registrations(young);
    } catch (err) {
      this.log.warn({ err }, 'reconciler could not read webhook registrations; polling every queue request this pass');
      return new Map();
    }
  }

  /** The row's own deadline; rows from before phases were recorded fall back to this instance's timeouts. */
  private deadlineOf(row: LedgerRow): number {
    if (row.deadlineAt !== null) return Date.parse(row.deadlineAt);
    const timeout = row.operation === 'run' ? this.ctx.config.runTimeoutMs : this.ctx.config.pollTimeoutMs;
    return Date.parse(row.createdAt) + timeout + LEGACY_GRACE_MS;
  }
}
