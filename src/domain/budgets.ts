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
  /** `key:<id>`, `team:<name>`, `token:<id>` (its spend) or `token-images:<id>` (its image count). */
  scope: string;
  scopeKind: 'key' | 'team' | 'token';
  period: BudgetPeriod;
  /** `all`, a UTC day `2026-11-26`, or a UTC month `2026-11`. */
  bucket: string;
  /** Limit that applies at reservation time (micro-USD, or images when `unit` is `images`); null = count only. */
  limit: number | null;
  /** What the counter counts: micro-USD (the default) or images (a token's `max_images`). */
  unit?: 'micro_usd' | 'images';
}

/** Caps of a short-lived browser token (POST /v1/tokens), counted on top of its parent key's budgets. */
export interface TokenCaps {
  tokenId: string;
  maxMicroUsd: number | null;
  maxImages: number | null;
}

/** The counters a token adds: its spend and its image count, both over its lifetime. */
export function tokenCounters(token: TokenCaps): CounterRef[] {
  return [
    { scope: `token:${token.tokenId}`, scopeKind: 'token', period: 'lifetime', bucket: 'all', limit: token.maxMicroUsd, unit: 'micro_usd' },
    { scope: `token-images:${token.tokenId}`, scopeKind: 'token', period: 'lifetime', bucket: 'all', limit: token.maxImages, unit: 'images' },
  ];
}

export function dayBucket(at: Date): string {
  return at.toISOString().slice(0, 10);
}

export function monthBucket(at: Date): string {
  return at.toISOString().slice(0, 7);
}

function scopeCounters(scope: string, scopeKind: 'key' | 'team', limits: BudgetLimits, at: Date): CounterRef[] {
  return [
    { scope, scopeKind, period: 'lifetime', bucket: 'all', limit: limits.lifetime },
    { scope, scopeKind, period: 'day', bucket: dayBucket(at), limit: limits.day },
    { scope, scopeKind, period: 'month', bucket: monthBucket(at), limit: limits.month },
  ];
}

/** The counters a request made at `at` by `keyId` (in `team`, through `token` if any) is counted in. */
export function countersFor(keyId: string, keyLimits: BudgetLimits, team: string | null, teamLimits: BudgetLimits, at: Date, token?: TokenCaps | null): CounterRef[] {
  const refs = scopeCounters(`key:${keyId}`, 'key', keyLimits, at);
  if (team !== null) refs.push(...scopeCounters(`team:${team}`, 'team', teamLimits, at));
  if (token) refs.push(...tokenCounters(token));
  return refs;
}

/** Whether `amount` more fits a counter with the given totals. */
export function fits(limit: number | null, spentMicro: number, reservedMicro: number, amountMicro: number): boolean {
  return limit === null || spentMicro + reservedMicro + amountMicro <= limit;
}
