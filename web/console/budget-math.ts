/**
 * Budget urgency, in integer micro-USD: how much of a period's budget is spent, reserved and left,
 * and when it runs out at the current rate (the spend of the last 24 hours). A day or month budget
 * that resets before it would run out is not urgent.
 */
import { toMicro, type Micro } from '../shared/money.js';
import { PERIODS, type Period, type PeriodView, type Usage } from './types.js';

export const RATE_WINDOW_MS = 86_400_000;

export interface Gauge {
  period: Period;
  budget: Micro;
  spent: Micro;
  reserved: Micro;
  remaining: Micro;
  /** ms until the remaining budget is spent at the current rate; Infinity if never (or not before the reset). */
  exhaustsInMs: number;
  /** The period resets before it would run out. */
  resetsFirst: boolean;
}

/** When the period containing `now` ends (UTC); Infinity for lifetime. */
export function periodEnd(period: Period, now: Date): number {
  if (period === 'day') return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  if (period === 'month') return Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  return Number.POSITIVE_INFINITY;
}

export function gauge(period: Period, v: PeriodView, ratePerWindow: Micro, now: Date): Gauge | null {
  if (v.budget_usd === null) return null;
  const budget = toMicro(v.budget_usd);
  const spent = toMicro(v.spent_usd);
  const reserved = toMicro(v.reserved_usd);
  const remaining = v.remaining_usd === null ? Math.max(0, budget - spent - reserved) : toMicro(v.remaining_usd);
  let exhaustsInMs = Number.POSITIVE_INFINITY;
  if (remaining <= 0) exhaustsInMs = 0;
  else if (ratePerWindow > 0) exhaustsInMs = (remaining * RATE_WINDOW_MS) / ratePerWindow;
  const resetsFirst = exhaustsInMs > 0 && now.getTime() + exhaustsInMs > periodEnd(period, now);
  return { period, budget, spent, reserved, remaining, exhaustsInMs: resetsFirst ? Number.POSITIVE_INFINITY : exhaustsInMs, resetsFirst };
}

export interface Scope {
  kind: 'key' | 'team';
  id: string;
  label: string;
  detail: string;
  gauges: Gauge[];
  /** Micro-USD spent in the last 24 hours. */
  rate: Micro;
}

export function gauges(usage: Usage, rate: Micro, now: Date): Gauge[] {
  return PERIODS.map((p) => gauge(p, usage[p], rate, now)).filter((g): g is Gauge => g !== null);
}

/** Most urgent first: soonest exhaustion, then the largest share of a budget used. */
export function byUrgency(a: Scope, b: Scope): number {
  const soonest = (s: Scope) => Math.min(...s.gauges.map((g) => g.exhaustsInMs));
  const used = (s: Scope) => Math.max(...s.gauges.map((g) => (g.budget === 0 ? 1 : (g.spent + g.reserved) / g.budget)));
  return soonest(a) - soonest(b) || used(b) - used(a) || (a.label < b.label ? -1 : 1);
}
