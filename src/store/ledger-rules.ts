/**
 * Money rules of the ledger, kept apart from the SQL that applies them (sql/sql-ledger-*.ts):
 * which counters a row is charged to, the order counters are locked and checked in, how a refusal
 * is reported, and which inputs are rejected as programming errors before anything is written.
 */
import { countersFor, NO_LIMITS, type BudgetPeriod, type CounterRef } from '../domain/budgets.js';
import type { LedgerRow, ReserveInput, ReserveResult, SettleInput } from './ledger-store.js';

const PERIOD_RANK: Record<BudgetPeriod, number> = { lifetime: 0, day: 1, month: 2 };

/**
 * One total order over all counters: scope, then lifetime < day < month, then bucket. Postgres
 * locks counters in this order in every transaction (reserve, settle, release), so two transactions
 * can never wait on each other in a cycle; both dialects check in this order too, so they report
 * the same counter when several would refuse (key before team before token, lifetime before day before
 * month; a token's image counter, `token-images:`, sorts before its spend, `token:`).
 */
export function counterOrder(a: CounterRef, b: CounterRef): number {
  if (a.scope !== b.scope) return a.scope < b.scope ? -1 : 1;
  if (a.period !== b.period) return PERIOD_RANK[a.period] - PERIOD_RANK[b.period];
  return a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0;
}

/** What a row needs to recompute its counters and what it charged them. */
export type ChargedRow = Pick<LedgerRow, 'keyId' | 'team' | 'createdAt' | 'tokenId' | 'quotedMicro' | 'images'>;

/**
 * The counters a row was charged to, recomputed from the row itself (key, team, token, created_at),
 * in lock order. Settle and release use this rather than anything a caller passes, so they always
 * undo exactly what reserve charged.
 */
export function chargedCounters(row: Pick<LedgerRow, 'keyId' | 'team' | 'createdAt' | 'tokenId'>): CounterRef[] {
  const token = row.tokenId === null ? null : { tokenId: row.tokenId, maxMicroUsd: null, maxImages: null };
  return countersFor(row.keyId, NO_LIMITS, row.team, NO_LIMITS, new Date(row.createdAt), token).sort(counterOrder);
}

export function unitOf(ref: Pick<CounterRef, 'unit'>): 'micro_usd' | 'images' {
  return ref.unit ?? 'micro_usd';
}

/** What reserve charges a counter: the request's image count on an image counter, else the quote. */
export function reserveAmount(ref: Pick<CounterRef, 'unit'>, row: Pick<LedgerRow, 'quotedMicro' | 'images'>): number {
  return unitOf(ref) === 'images' ? row.images : row.quotedMicro;
}

export interface CounterMove {
  ref: CounterRef;
  reservedDelta: number;
  spentDelta: number;
}

/**
 * The moves that take a row out of `reserved`, in lock order: each counter gives back what reserve
 * charged it; on settle (`settledMicro` not null) money counters spend the settled amount and image
 * counters spend the images reserved.
 */
export function unchargeMoves(row: ChargedRow, settledMicro: number | null): CounterMove[] {
  return chargedCounters(row).map((ref) => {
    const reserved = reserveAmount(ref, row);
    const spent = settledMicro === null ? 0 : unitOf(ref) === 'images' ? reserved : settledMicro;
    return { ref, reservedDelta: -reserved, spentDelta: spent };
  });
}

/** Canonical instant text (`Date#toISOString`): SQLite compares and groups created_at as text. */
export function instant(iso: string): string {
  return new Date(iso).toISOString();
}

/**
 * Checks a reservation before any write and returns its counters in lock order. The counters must
 * be exactly the ones settle and release will recompute from the row (scope, bucket, period, kind
 * and unit); anything else would leave `reserved` stuck on a counter, so it is refused as a
 * programming error. Limits are the caller's.
 */
export function reserveCounters(input: ReserveInput): CounterRef[] {
  assertMicro(input.quotedMicro, 'quotedMicro');
  assertCount(input.images, 1, 'images');
  const expected = chargedCounters({ keyId: input.keyId, team: input.team, tokenId: input.tokenId, createdAt: instant(input.at) });
  const given = [...input.counters].sort(counterOrder);
  const same =
    given.length === expected.length &&
    given.every((c, i) => {
      const e = expected[i];
      return e !== undefined && c.scope === e.scope && c.bucket === e.bucket && c.period === e.period && c.scopeKind === e.scopeKind && unitOf(c) === unitOf(e);
    });
  if (!same) throw new Error('reserve: counters must be countersFor(keyId, …, team, …, at, token) of the row');
  for (const c of given) {
    if (c.limit === null) continue;
    if (unitOf(c) === 'images') assertCount(c.limit, 0, 'image limit');
    else assertMicro(c.limit, 'limit');
  }
  return given;
}

export function assertSettle(input: SettleInput): void {
  assertMicro(input.amountMicro, 'amountMicro');
}

/** Money is integer micro-USD (docs/design.md §3): a fraction or a negative amount is a bug, never rounded. */
function assertMicro(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer micro-USD amount, got ${value}`);
}

function assertCount(value: number, min: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${value}`);
}

/** The refusal for a counter whose conditional charge did not apply, from totals read in the same transaction (in its unit). */
export function budgetRefusal(ref: CounterRef, limit: number, spent: number, reserved: number): ReserveResult {
  return {
    ok: false,
    reason: 'budget',
    scopeKind: ref.scopeKind,
    period: ref.period,
    unit: unitOf(ref),
    limit,
    remaining: Math.max(0, limit - spent - reserved),
  };
}

/**
 * The in-flight check, given counts read inside the reserve transaction (after the key's counters
 * are locked, so concurrent reservations for one key see each other). Null when the row fits.
 */
export function concurrencyRefusal(input: ReserveInput, keyInFlight: () => number, globalInFlight: () => number): ReserveResult | null {
  const limits = input.inFlightLimits;
  if (limits?.key != null && keyInFlight() >= limits.key) return { ok: false, reason: 'concurrency', scope: 'key', limit: limits.key };
  if (limits?.global != null && globalInFlight() >= limits.global) return { ok: false, reason: 'concurrency', scope: 'global', limit: limits.global };
  return null;
}

/** Thrown inside a reserve transaction to roll it back; carries the refusal out to be returned. */
export class ReservationRefused extends Error {
  constructor(readonly result: ReserveResult) {
    super('reservation refused');
  }
}

/** The row a successful reserve creates. */
export function reservedRow(input: ReserveInput): LedgerRow {
  return {
    id: input.id,
    keyId: input.keyId,
    team: input.team,
    operation: input.operation,
    falRequestId: null,
    idempotencyKey: input.idempotencyKey,
    bodyHash: input.bodyHash,
    state: 'reserved',
    outcome: null,
    quotedMicro: input.quotedMicro,
    settledMicro: null,
    requestedMegapixels: input.requestedMegapixels,
    billedUnits: null,
    settleSource: null,
    verified: null,
    httpStatus: null,
    endUser: input.endUser,
    tokenId: input.tokenId,
    images: input.images,
    createdAt: instant(input.at),
    settledAt: null,
    upstreamPhase: 'reserved',
    deadlineAt: null,
    unitPriceMicro: input.unitPriceMicro ?? null,
    overrun: false,
  };
}

/** Error for a fal request id already attached to another row (or a row that has another id). */
export function falIdConflict(id: string, falRequestId: string): Error {
  return new Error(`fal request ${falRequestId} cannot be attached to ledger row ${id}: one of them already has another`);
}

export function unknownRow(id: string): Error {
  return new Error(`unknown ledger row ${id}`);
}
