/**
 * Steps 6 and 8 of the pipeline (docs/design.md §2): quote and reserve before fal is called, settle or
 * release when the outcome is known. Amounts are integer micro-USD; dollars appear only in headers
 * and JSON bodies.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { NO_LIMITS, countersFor, type BudgetLimits, type CounterRef } from '../domain/budgets.js';
import { checkPolicy } from '../domain/policy.js';
import { costOfBillableUnits, microToUsd, microToUsdNumber, quote, reservationMicro, type Quote } from '../domain/pricing.js';
import type { Sd35Input } from '../domain/schema.js';
import { GatewayError, ValidationRefusal } from '../errors.js';
import { withFreshLimits } from '../store/ledger-fresh-limits.js';
import type { FreshLimits, LedgerOperation, LedgerRow } from '../store/ledger-store.js';
import type { KeyRecord } from '../store/key-store.js';
import type { PipelineContext } from './context.js';
import { scopedIdempotencyKey } from './idempotency.js';
import type { Principal } from './principal.js';

export interface Reservation {
  row: LedgerRow;
  quote: Quote;
  counters: CounterRef[];
}

export function keyLimits(key: KeyRecord): BudgetLimits {
  return { lifetime: key.budgetMicroUsd, day: key.budgetDailyMicroUsd, month: key.budgetMonthlyMicroUsd };
}

/**
 * Reserves an upper bound of fal's bill (pricing.ts reservationMicro: whole megapixels per image at
 * the auto_fix size, whatever PRICE_ROUNDING says about the estimate) against every budget that
 * applies, atomically. The key's and team's limits, max_concurrency and revoked state are read in
 * the reserve transaction itself, not from the KEY_CACHE_MS cache, so a change made on any instance
 * holds at once; the key's policy, checked earlier from the cached key, is checked again against
 * the row read there. Throws 402 budget_exceeded (never 429: fal clients retry 429) when any budget
 * would be exceeded, including one already overspent (remaining 0). Returns `duplicate` when the
 * idempotency key already has a row (the caller replays it).
 */
export async function reserve(
  ctx: PipelineContext,
  principal: Principal,
  input: Sd35Input,
  opts: { id: string; operation: LedgerOperation; idempotencyKey: string | null; bodyHash: string | null },
): Promise<Reservation | { duplicate: LedgerRow }> {
  // The price in force now (PRICE_SOURCE); the row keeps it, so its settlement uses it too.
  const unitPriceMicro = await ctx.price.current();
  const q = quote(input, { microUsdPerMegapixel: unitPriceMicro, rounding: ctx.config.rounding });
  // The hold, not the estimate: what a refusal quotes, so "cost" and "remaining" compare the same thing.
  const holdMicro = reservationMicro(input, unitPriceMicro);
  const at = ctx.now();
  const token = principal.token ? { tokenId: principal.token.id, maxMicroUsd: principal.token.maxMicroUsd, maxImages: principal.token.maxImages } : null;
  // Key and team limits here are placeholders: the store replaces them with the rows it reads (freshLimits).
  const given = countersFor(principal.keyId, keyLimits(principal.key), principal.team, NO_LIMITS, at, token);
  const result = await ctx.stores.ledger.reserve({
    id: opts.id,
    keyId: principal.keyId,
    team: principal.team,
    operation: opts.operation,
    quotedMicro: holdMicro,
    requestedMegapixels: q.megapixels,
    counters: given,
    idempotencyKey: opts.idempotencyKey === null ? null : scopedIdempotencyKey(opts.operation, opts.idempotencyKey),
    bodyHash: opts.bodyHash,
    endUser: principal.endUser,
    tokenId: principal.token?.id ?? null,
    images: q.numImages,
    unitPriceMicro,
    inFlightLimits: { key: principal.key.maxConcurrency, global: ctx.config.globalMaxConcurrency },
    at: at.toISOString(),
    freshLimits: true,
  });
  if (result.ok) {
    if (!result.fresh) return { row: result.row, quote: q, counters: given };
    await recheckPolicy(ctx, result.row, input, result.fresh);
    // The limits in force, for x-gateway-budget-remaining-usd.
    return { row: result.row, quote: q, counters: withFreshLimits(given, result.fresh) };
  }
  if (result.reason === 'duplicate') return { duplicate: result.existing };
  if (result.reason === 'revoked') throw new GatewayError('unauthorized', 'Invalid or revoked key');
  if (result.reason === 'expired') throw new GatewayError('unauthorized', `This key expired at ${result.expiresAt}`);
  if (result.reason === 'concurrency') {
    // 429 (fal clients back off and retry it), not a queue inside the gateway: see README, Limits.
    const who = result.scope === 'key' ? 'this key' : 'the gateway';
    throw new GatewayError('concurrency_limited', `${who} already has ${result.limit} generations in flight; retry shortly`, { 'retry-after': '1' }, { limit: result.limit, limit_scope: result.scope });
  }
  if (result.unit === 'images') {
    throw new GatewayError('budget_exceeded', `This request asks for ${q.numImages} image(s) but the token has ${result.remaining} left`, {}, {
      remaining_images: result.remaining,
      max_images: result.limit,
      budget_scope: 'token',
      budget_period: 'lifetime',
    });
  }
  const scope = result.scopeKind;
  const period = result.period === 'lifetime' ? '' : ` ${result.period === 'day' ? 'daily' : 'monthly'}`;
  throw new GatewayError(
    'budget_exceeded',
    `This request would cost up to $${microToUsd(holdMicro)} but the ${scope}'s${period} budget has $${microToUsd(result.remaining)} left`,
    {},
    {
      cost_usd: microToUsdNumber(holdMicro),
      remaining_usd: microToUsdNumber(result.remaining),
      budget_usd: microToUsdNumber(result.limit),
      budget_scope: result.scopeKind,
      budget_period: result.period,
    },
  );
}

/**
 * The policy as it stands in the row the reservation read: a policy tightened on another instance
 * within KEY_CACHE_MS passed the cached check but is enforced here, before fal is called.
 */
async function recheckPolicy(ctx: PipelineContext, row: LedgerRow, input: Sd35Input, fresh: FreshLimits): Promise<void> {
  const verdict = checkPolicy(input, fresh.key.policy, ctx.config.maxMegapixelsPerImage);
  if (verdict.ok) return;
  await ctx.stores.ledger.release(row.id, { outcome: 'refused_policy', httpStatus: verdict.status, at: ctx.now().toISOString() });
  if (verdict.status === 403) throw new GatewayError('forbidden', verdict.detail);
  throw new ValidationRefusal(verdict.issues);
}

/** The price a row settles at: its own (set at reserve); rows from before migration 17 take the current one. */
export function rowPrice(ctx: PipelineContext, row: Pick<LedgerRow, 'unitPriceMicro'>): number {
  return row.unitPriceMicro ?? ctx.price.lastKnown();
}

/** What fal's answer says was billed: x-fal-billable-units × the row's price, or null when fal did not say. */
export function billedFromHeaders(ctx: PipelineContext, headers: IncomingHttpHeaders, row: Pick<LedgerRow, 'unitPriceMicro'>): { micro: number; units: number } | null {
  const raw = headers['x-fal-billable-units'];
  if (typeof raw !== 'string') return null;
  const micro = costOfBillableUnits(raw, rowPrice(ctx, row));
  return micro === null ? null : { micro, units: Number(raw) };
}

/** What a fal answer settles: its cost, decided without the database, and the write that records it. */
export interface AnswerSettlement {
  costMicro: number;
  apply(): Promise<boolean>;
}

/**
 * Settles or releases a row from a fal HTTP answer (sync response, or a queue result fetch):
 * billed units when fal sent them (0 = not billed: release); else a 2xx settles at the quote,
 * marked unverified; else (an error fal did not bill) release. `outcome` overrides the settled
 * outcome (e.g. `body_lost`: fal's headers came and billed, its body broke off).
 */
export function settlementFromAnswer(
  ctx: PipelineContext,
  row: Pick<LedgerRow, 'id' | 'keyId' | 'quotedMicro' | 'unitPriceMicro'>,
  statusCode: number,
  headers: IncomingHttpHeaders,
  outcome?: string,
  /** A sync run's fal id: attached by the settling write itself, not a write of its own. */
  falRequestId: string | null = null,
): AnswerSettlement {
  const at = ctx.now().toISOString();
  const billed = billedFromHeaders(ctx, headers, row);
  const ok = statusCode >= 200 && statusCode < 300;
  const ledger = ctx.stores.ledger;
  if (billed !== null && billed.micro > 0) {
    const input = { amountMicro: billed.micro, billedUnits: billed.units, source: 'billable_units', verified: true, outcome: outcome ?? (ok ? 'ok' : 'billed_error'), httpStatus: statusCode, at, falRequestId } as const;
    const apply = async (): Promise<boolean> => {
      const settled = await ledger.settle(row.id, input);
      if (settled && billed.micro > row.quotedMicro) {
        ctx.onOverrun({ ledgerId: row.id, keyId: row.keyId, quotedMicro: row.quotedMicro, settledMicro: billed.micro, billedUnits: billed.units });
      }
      return settled;
    };
    return { costMicro: billed.micro, apply };
  }
  if (ok && billed === null) {
    const input = { amountMicro: row.quotedMicro, billedUnits: null, source: 'quote', verified: false, outcome: outcome ?? 'ok', httpStatus: statusCode, at, falRequestId } as const;
    return { costMicro: row.quotedMicro, apply: () => ledger.settle(row.id, input) };
  }
  return { costMicro: 0, apply: () => ledger.release(row.id, { outcome: ok ? 'not_billed' : 'failed', httpStatus: statusCode, at, falRequestId }) };
}

export async function settleFromAnswer(ctx: PipelineContext, row: Pick<LedgerRow, 'id' | 'keyId' | 'quotedMicro' | 'unitPriceMicro'>, statusCode: number, headers: IncomingHttpHeaders): Promise<number | null> {
  const settlement = settlementFromAnswer(ctx, row, statusCode, headers);
  await settlement.apply();
  return settlement.costMicro;
}

/** A fal call that produced no answer: if fal may have run it, charge the quote (flagged), else release. */
export async function settleUnknown(ctx: PipelineContext, row: Pick<LedgerRow, 'id' | 'quotedMicro'>, maybeDelivered: boolean, outcome = 'unknown'): Promise<void> {
  const at = ctx.now().toISOString();
  if (maybeDelivered) {
    await ctx.stores.ledger.settle(row.id, { amountMicro: row.quotedMicro, billedUnits: null, source: 'quote', verified: false, outcome, httpStatus: null, at });
  } else {
    await ctx.stores.ledger.release(row.id, { outcome: 'not_sent', httpStatus: null, at });
  }
}

/**
 * `x-gateway-*` headers for a generation response: its cost, requested megapixels, and what is
 * left of the tightest budget that applies (omitted when none is set).
 */
export async function costHeaders(ctx: PipelineContext, r: Reservation, costMicro: number): Promise<Record<string, string>> {
  const headers: Record<string, string> = {
    'x-gateway-cost-usd': microToUsd(costMicro),
    'x-gateway-megapixels': r.quote.megapixels.toFixed(6),
  };
  const limited = r.counters.filter((c) => c.limit !== null);
  if (limited.length > 0) {
    const totals = await ctx.stores.ledger.counterTotals(limited);
    let remaining = Number.MAX_SAFE_INTEGER;
    limited.forEach((c, i) => {
      const t = totals[i] ?? { spentMicro: 0, reservedMicro: 0 };
      remaining = Math.min(remaining, Math.max(0, (c.limit ?? 0) - t.spentMicro - t.reservedMicro));
    });
    headers['x-gateway-budget-remaining-usd'] = microToUsd(remaining);
  }
  return headers;
}
