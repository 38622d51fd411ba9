/**
 * Budgets: which spend counters a request touches, and whether a reservation fits. Pure.
 *
 * Every request is counted in six counters: its key and its team (if any), each over its lifetime,
 * its UTC day and its UTC month. A counter carries `reserved` (in flight) and `spent` (settled)
 * micro-USD. A reservation must fit every counter that has a limit: spent + reserved + quote ≤ limit.
 * Counters are kept for unlimited scopes too, so a budget added later sees the spend before it.
 */

export type BudgetPeriod = 'lifetime' | 'day' | 'month';

/** Integer micro-USD limits of one scope; null = no limit for that period. */
export interface BudgetLimits {
  lifetime: number | null;
  day: number | null;
  month: number | null;
}

export const NO_LIMITS: BudgetLimits = { lifetime: null, day: null, month: null };

export interface CounterRef {
  /** `key:<id>` or `team:<name>`. */
  scope: string;
  scopeKind: 'key' | 'team';
  period: BudgetPeriod;
  /** `all`, a UTC day `2026-11-26`, or a UTC month `2026-11`. */
  bucket: string;
  /** Limit that applies at reservation time; null = count only. */
  limitMicro: number | null;
}

export function dayBucket(at: Date): string {
  return at.toISOString().slice(0, 10);
}

export function monthBucket(at: Date): string {
  return at.toISOString().slice(0, 7);
}

function scopeCounters(scope: string, scopeKind: 'key' | 'team', limits: BudgetLimits, at: Date): CounterRef[] {
  return [
    { scope, scopeKind, period: 'lifetime', bucket: 'all', limitMicro: limits.lifetime },
    { scope, scopeKind, period: 'day', bucket: dayBucket(at), limitMicro: limits.day },
    { scope, scopeKind, period: 'month', bucket: monthBucket(at), limitMicro: limits.month },
  ];
}

/** The counters a request made at `at` by `keyId` (in `team`) is counted in. */
export function countersFor(keyId: string, keyLimits: BudgetLimits, team: string | null, teamLimits: BudgetLimits, at: Date): CounterRef[] {
  const refs = scopeCounters(`key:${keyId}`, 'key', keyLimits, at);
  if (team !== null) refs.push(...scopeCounters(`team:${team}`, 'team', teamLimits, at));
  return refs;
}

/** Whether `amount` more fits a counter with the given totals. */
export function fits(limitMicro: number | null, spentMicro: number, reservedMicro: number, amountMicro: number): boolean {
  return limitMicro === null || spentMicro + reservedMicro + amountMicro <= limitMicro;
}
