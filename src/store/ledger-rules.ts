/**
 * Rules every LedgerStore adapter shares, so memory, SQLite and Postgres agree on them exactly:
 * which counters a row is charged to, the order counters are locked and checked in, how a refusal
 * is reported, and which inputs are rejected as programming errors before anything is written.
 */
import { countersFor, NO_LIMITS, type BudgetPeriod, type CounterRef } from '../domain/budgets.js';
import type { LedgerRow, ReserveInput, ReserveResult, SettleInput } from './ledger-store.js';

const PERIOD_RANK: Record<BudgetPeriod, number> = { lifetime: 0, day: 1, month: 2 };

/**
 * One total order over all counters: scope, then lifetime < day < month, then bucket. Postgres
 * locks counters in this order in every transaction (reserve, settle, release), so two transactions
 * can never wait on each other in a cycle; the other adapters use it too, so all three report the
 * same counter when several would refuse (key before team, lifetime before day before month).
 */
export function counterOrder(a: CounterRef, b: CounterRef): number {
  if (a.scope !== b.scope) return a.scope < b.scope ? -1 : 1;
  if (a.period !== b.period) return PERIOD_RANK[a.period] - PERIOD_RANK[b.period];
  return a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0;
}

/**
 * The counters a row was charged to, recomputed from the row itself (key, team, created_at), in
 * lock order. Settle and release use this rather than anything a caller passes, so they always undo
 * exactly what reserve charged.
 */
export function chargedCounters(row: Pick<LedgerRow, 'keyId' | 'team' | 'createdAt'>): CounterRef[] {
  return countersFor(row.keyId, NO_LIMITS, row.team, NO_LIMITS, new Date(row.createdAt)).sort(counterOrder);
}

/** Canonical instant text (`Date#toISOString`): SQLite compares and groups created_at as text. */
export function instant(iso: string): string {
  return new Date(iso).toISOString();
}

/**
 * Checks a reservation before any write and returns its counters in lock order. The counters must
 * be exactly the ones settle and release will recompute from the row; anything else would leave
 * `reserved` stuck on a counter, so it is refused as a programming error.
 */
export function reserveCounters(input: ReserveInput): CounterRef[] {
  assertMicro(input.quotedMicro, 'quotedMicro');
  const expected = chargedCounters({ keyId: input.keyId, team: input.team, createdAt: instant(input.at) });
  const given = [...input.counters].sort(counterOrder);
  const same =
    given.length === expected.length &&
    given.every((c, i) => {
      const e = expected[i];
      return e !== undefined && c.scope === e.scope && c.bucket === e.bucket && c.period === e.period && c.scopeKind === e.scopeKind;
    });
  if (!same) throw new Error('reserve: counters must be countersFor(keyId, …, team, …, at) of the row');
  for (const c of given) if (c.limitMicro !== null) assertMicro(c.limitMicro, 'limitMicro');
  return given;
}

export function assertSettle(input: SettleInput): void {
  assertMicro(input.amountMicro, 'amountMicro');
}

/** Money is integer micro-USD (DESIGN §3): a fraction or a negative amount is a bug, never rounded. */
function assertMicro(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer micro-USD amount, got ${value}`);
}

/** The refusal for a counter whose conditional charge did not apply, from totals read in the same transaction. */
export function budgetRefusal(ref: CounterRef, limitMicro: number, spentMicro: number, reservedMicro: number): ReserveResult {
  return {
    ok: false,
    reason: 'budget',
    scopeKind: ref.scopeKind,
    period: ref.period,
    limitMicro,
    remainingMicro: Math.max(0, limitMicro - spentMicro - reservedMicro),
  };
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
    createdAt: instant(input.at),
    settledAt: null,
  };
}

/** Error for a fal request id already attached to another row (or a row that has another id). */
export function falIdConflict(id: string, falRequestId: string): Error {
  return new Error(`fal request ${falRequestId} cannot be attached to ledger row ${id}: one of them already has another`);
}

export function unknownRow(id: string): Error {
  return new Error(`unknown ledger row ${id}`);
}

/**
 * Runs a synchronous adapter body (memory, better-sqlite3) as a promise, so a thrown error becomes
 * a rejection like the Postgres adapter's: callers may rely on `.catch` and never see a sync throw.
 */
export function attempt<T>(body: () => T): Promise<T> {
  try {
    return Promise.resolve(body());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
