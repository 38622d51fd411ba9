/**
 * Settles queue requests when the gateway learns their outcome (docs/design.md §2 step 8). A COMPLETED
 * status (from a client's poll, an SSE event, or the reconciler) triggers one background fetch of
 * the result, whose `x-fal-billable-units` is fal's bill; a client's own successful result fetch
 * settles directly from its headers. Settlement is idempotent in the ledger, and concurrent
 * triggers for one request share one attempt.
 *
 * Memory: both maps empty themselves (a scheduled id leaves after SETTLE_DELAY_MS, an attempt when
 * it ends). Past SETTLER_MAX_PENDING scheduled ids (memory-bounds.ts; an id is under 100 characters,
 * so well under 5 MiB with its timer) a COMPLETED status schedules nothing: the row stays reserved
 * and the reconciler settles it on its next pass. `inflight` holds at most the scheduled attempts
 * plus the one the reconciler awaits.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { REQUESTS_PREFIX } from '../domain/model.js';
import { settleFromAnswer, settlementFromAnswer } from './accounting.js';
import type { PipelineContext } from './context.js';
import type { LedgerRow } from '../store/ledger-store.js';
import { SETTLER_MAX_PENDING } from './memory-bounds.js';

/** How long a COMPLETED request waits for its client's own result fetch before the gateway fetches it. */
const SETTLE_DELAY_MS = 2_000;

export class QueueSettler {
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly scheduled = new Set<string>();

  constructor(
    private readonly ctx: PipelineContext,
    private readonly log: FastifyBaseLogger,
    private readonly maxPending = SETTLER_MAX_PENDING,
  ) {}

  /** Ids waiting for a background settlement or being settled now. */
  get pending(): number {
    return this.scheduled.size + this.inflight.size;
  }

  /**
   * A status was observed; if it is terminal, settle in the background (never delays the poll).
   * The fetch waits a moment first: a client that saw COMPLETED usually fetches the result right
   * away, and that fetch settles the row from its own headers, so fal is asked for it only once.
   */
  onStatus(requestId: string, status: Record<string, unknown>): void {
    if (status.status !== 'COMPLETED' || this.scheduled.has(requestId)) return;
    if (this.scheduled.size >= this.maxPending) return; // the reconciler settles it
    this.scheduled.add(requestId);
    setTimeout(() => {
      this.scheduled.delete(requestId);
      void this.settle(requestId, jobFailed(status));
    }, SETTLE_DELAY_MS).unref();
  }

  /**
   * Settles from the outcome fal reports for a COMPLETED request. Safe to call repeatedly.
   * `failed`: the COMPLETED status carried an `error` (fal has no FAILED state), so a non-2xx
   * result is that failure; otherwise a non-2xx result is a passing fault of the fetch itself.
   */
  settle(requestId: string, failed: boolean): Promise<void> {
    const running = this.inflight.get(requestId);
    if (running) return running;
    const attempt = this.settleOnce(requestId, failed)
      .catch((err: unknown) => this.log.warn({ err, falRequestId: requestId }, 'queue settlement failed; the reconciler will retry'))
      .finally(() => this.inflight.delete(requestId));
    this.inflight.set(requestId, attempt);
    return attempt;
  }

  /**
   * A client fetched a successful result: its headers carry fal's bill, no extra call needed. A
   * database failure here must not cost the client its result: the row stays reserved and the
   * reconciler settles it later. Returns what the row was charged once this answer is applied
   * (micro-USD; 0 when released), for the result's x-gateway-cost-usd, or null when that is not
   * known (no row, still reserved, the write failed, or not a 2xx).
   */
  async onResult(requestId: string, statusCode: number, headers: IncomingHttpHeaders): Promise<number | null> {
    if (statusCode < 200 || statusCode >= 300) return null; // 400 "still in progress" settles nothing
    try {
      const row = await this.ctx.stores.ledger.findByFalRequestId(requestId);
      if (row === null) return null;
      if (row.state === 'reserved') {
        const settlement = settlementFromAnswer(this.ctx, row, statusCode, headers);
        if (await settlement.apply()) return settlement.costMicro;
        // Another path (a poll, the reconciler, a webhook) settled it first: read what it wrote.
        return chargedMicro(await this.ctx.stores.ledger.findByFalRequestId(requestId));
      }
      return chargedMicro(row);
    } catch (err) {
      this.log.warn({ err, falRequestId: requestId }, 'result settlement failed; the reconciler will retry');
      return null;
    }
  }

  private async settleOnce(requestId: string, failed: boolean): Promise<void> {
    const row = await this.ctx.stores.ledger.findByFalRequestId(requestId);
    if (row?.state !== 'reserved') return;
    const res = await this.ctx.upstream.request({
      origin: 'queue',
      method: 'GET',
      path: `${REQUESTS_PREFIX}/${encodeURIComponent(requestId)}`,
      headers: { accept: 'application/json' },
      timeoutMs: this.ctx.config.pollTimeoutMs,
    });
    // fal's bill is in the headers: a result body that breaks off still settles the row.
    await res.body.dump({ limit: Number.MAX_SAFE_INTEGER }).catch((err: unknown) => this.log.debug({ err, falRequestId: requestId }, 'result body broke off; settling from its headers'));
    if (!isOutcome(res.statusCode, res.headers, failed)) return; // the reconciler asks again later
    await settleFromAnswer(this.ctx, row, res.statusCode, res.headers);
  }
}

/** What a row has been charged: its settlement, 0 once released, null while still reserved. */
function chargedMicro(row: LedgerRow | null): number | null {
  if (row === null || row.state === 'reserved') return null;
  return row.state === 'settled' ? (row.settledMicro ?? null) : 0;
}

/** A COMPLETED status that reports the job's failure (`error`, fal's queue doc). */
export function jobFailed(status: Record<string, unknown>): boolean {
  return status.error !== undefined && status.error !== null;
}

/**
 * Whether a result fetch's answer is the job's outcome, which may settle or release its row. A 2xx
 * is, and so is any answer on which fal stamped its bill (`x-fal-billable-units`). A non-2xx
 * without it is the job's outcome only when the status already said the job failed and the answer
 * comes from fal's queue for that request (`x-fal-request-id`); a 429, a 5xx from fal's ingress, a
 * 404 or a 400 "still in progress" on the fetch itself is not, because releasing on it would free
 * a budget fal may still charge.
 */
export function isOutcome(statusCode: number, headers: IncomingHttpHeaders, failed: boolean): boolean {
  if (statusCode >= 200 && statusCode < 300) return true;
  if (statusCode === 400 || statusCode === 401 || statusCode === 403 || statusCode === 404 || statusCode === 408 || statusCode === 429) return false;
  if (typeof headers['x-fal-billable-units'] === 'string') return true;
  return failed && typeof headers['x-fal-request-id'] === 'string';
}
