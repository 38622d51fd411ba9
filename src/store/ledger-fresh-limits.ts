/**
 * Rules for what a reservation reads inside its own transaction: the limits in force in the
 * database (not a cache of them), overruns, and when an idempotency key may be reused by a new
 * attempt.
 */
import type { BudgetLimits, CounterRef } from '../domain/budgets.js';
import { instant } from './ledger-rules.js';
import type { FreshLimits, LedgerRow, ReserveInput, ReserveResult } from './ledger-store.js';

/** A settlement above its reservation (the reservation is meant to be an upper bound of fal's bill). */
export function isOverrun(settledMicro: number | null, quotedMicro: number): boolean {
  return settledMicro !== null && settledMicro > quotedMicro;
}

export interface AppliedLimits {
  refs: CounterRef[];
  inFlightLimits: ReserveInput['inFlightLimits'];
}

/**
 * The counters and in-flight caps to check: with `freshLimits`, the key's and team's counters take
 * their limits from the rows read in the transaction, and the key's max_concurrency replaces the
 * caller's; a revoked, missing or expired key is refused. Token counters and the global cap stay as given.
 */
export function applyFreshLimits(input: ReserveInput, refs: CounterRef[], fresh: FreshLimits | null): AppliedLimits | ReserveResult {
  if (!input.freshLimits) return { refs, inFlightLimits: input.inFlightLimits };
  if (fresh === null || fresh.key.revokedAt !== null) return { ok: false, reason: 'revoked' };
  // Both canonical ISO-8601 UTC text (Date#toISOString), so text order is time order; an expiry
  // set on any instance holds at once.
  if (fresh.key.expiresAt !== null && fresh.key.expiresAt <= instant(input.at)) return { ok: false, reason: 'expired', expiresAt: fresh.key.expiresAt };
  return { refs: withFreshLimits(refs, fresh), inFlightLimits: { key: fresh.key.maxConcurrency, global: input.inFlightLimits?.global ?? null } };
}

/** The counters with the key's and team's limits taken from `fresh`; token counters unchanged. */
export function withFreshLimits(refs: CounterRef[], fresh: FreshLimits): CounterRef[] {
  const keyLimits: BudgetLimits = { lifetime: fresh.key.budgetMicroUsd, day: fresh.key.budgetDailyMicroUsd, month: fresh.key.budgetMonthlyMicroUsd };
  const limitOf = (ref: CounterRef): number | null => {
    if (ref.scopeKind === 'key') return keyLimits[ref.period];
    if (ref.scopeKind === 'team') return fresh.team[ref.period];
    return ref.limit;
  };
  return refs.map((ref) => ({ ...ref, limit: limitOf(ref) }));
}

/** A team's budgets from its stored columns; no record means no limits. */
export function teamLimitsOf(row: { budget_micro_usd: number | null; budget_daily_micro_usd: number | null; budget_monthly_micro_usd: number | null } | undefined): BudgetLimits {
  return { lifetime: row?.budget_micro_usd ?? null, day: row?.budget_daily_micro_usd ?? null, month: row?.budget_monthly_micro_usd ?? null };
}

/** Release outcomes of a first try that never reached fal: nothing ran, nothing to replay. */
const NEVER_SENT = new Set(['not_sent', 'refused_policy']);

/**
 * Whether a new attempt may take over the idempotency key of `existing`: its first try was released
 * before reaching fal (`not_sent`, or `refused_policy` by the re-check after reserving) and the
 * body is the same. Anything else is a duplicate the caller replays or refuses.
 */
export function mayRetakeIdempotencyKey(existing: Pick<LedgerRow, 'state' | 'outcome' | 'bodyHash'>, input: Pick<ReserveInput, 'bodyHash'>): boolean {
  return existing.state === 'released' && existing.outcome !== null && NEVER_SENT.has(existing.outcome) && existing.bodyHash === input.bodyHash;
}
