/**
 * Sending a reserved POST (sync run, queue submit) to fal, and what its row becomes when no answer
 * comes back (README, Money): the row is marked `sent` with its own
 * deadline just before the call leaves, so recovery can tell "fal never saw it" (release) from
 * "fal may have run it" (quote, flagged). A call that fails before any byte left (connect refused,
 * DNS) releases the row; any later failure (headers timeout, reset, abort) charges the quote,
 * unverified, and answers a non-retryable 500 upstream_outcome_unknown.
 */
import type { Dispatcher } from 'undici';
import type { FastifyRequest } from 'fastify';
import { microToUsd } from '../domain/pricing.js';
import { GatewayError } from '../errors.js';
import type { LedgerRow } from '../store/ledger-store.js';
import type { UpstreamRequest } from '../upstream/fal-upstream.js';
import { costHeaders, settleUnknown, type Reservation } from './accounting.js';
import type { PipelineContext } from './context.js';
import { callFal, UpstreamCallError } from './upstream-call.js';

/** Added to a call's own time limits for the row's deadline: the instance's settle writes come after them. */
export const DEADLINE_GRACE_MS = 5_000;

export async function postToFal(ctx: PipelineContext, request: FastifyRequest, row: LedgerRow, req: UpstreamRequest): Promise<Dispatcher.ResponseData> {
  // The longest this instance can hold the call: fal's headers, then one stalled body chunk (both
  // bounded by timeoutMs), then its settle writes. Until then the row is this instance's alone.
  const deadline = new Date(ctx.now().getTime() + 2 * req.timeoutMs + DEADLINE_GRACE_MS).toISOString();
  if (!(await ctx.stores.ledger.markSent(row.id, deadline))) {
    // Recovery released the row while this request waited on the database: nothing was sent.
    throw new GatewayError('service_unavailable', 'The request could not be recorded in time; nothing was sent, retry', { 'retry-after': '1' });
  }
  try {
    return await callFal(ctx, request, req);
  } catch (err) {
    // fal's 401/403 is an answer (nothing ran); a transport failure says whether a byte may have left.
    const maybeDelivered = err instanceof UpstreamCallError ? err.maybeDelivered : !(err instanceof GatewayError);
    await ctx.ledgerRetry.write(row.id, maybeDelivered ? 'settle at quote' : 'release', () => settleUnknown(ctx, row, maybeDelivered));
    throw err;
  }
}

/** costHeaders, without the budget figure when the database cannot say: fal's answer goes out regardless. */
export async function answerCostHeaders(ctx: PipelineContext, request: FastifyRequest, r: Reservation, costMicro: number): Promise<Record<string, string>> {
  try {
    return await costHeaders(ctx, r, costMicro);
  } catch (err) {
    request.log.warn({ err }, 'budget figures unavailable for the answer headers');
    return { 'x-gateway-cost-usd': microToUsd(costMicro), 'x-gateway-megapixels': r.quote.megapixels.toFixed(6) };
  }
}
