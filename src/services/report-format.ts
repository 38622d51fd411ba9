/**
 * What every report shares: a budget period's view (spent, reserved, budget, remaining, in USD
 * numbers exact to the micro-dollar) and CSV cells that a spreadsheet never runs as formulas.
 */
import type { CounterRef } from '../domain/budgets.js';
import { microToUsdNumber } from '../domain/pricing.js';
import type { CounterTotals } from '../store/ledger-store.js';

export interface PeriodView {
  spent_usd: number;
  reserved_usd: number;
  budget_usd: number | null;
  /** max(0, budget − spent − reserved); null without a budget. */
  remaining_usd: number | null;
}

export function periodView(ref: Pick<CounterRef, 'limit'> | undefined, t: CounterTotals | undefined): PeriodView {
  const spent = t?.spentMicro ?? 0;
  const reserved = t?.reservedMicro ?? 0;
  const limit = ref?.limit ?? null;
  return {
    spent_usd: microToUsdNumber(spent),
    reserved_usd: microToUsdNumber(reserved),
    budget_usd: limit === null ? null : microToUsdNumber(limit),
    remaining_usd: limit === null ? null : microToUsdNumber(Math.max(0, limit - spent - reserved)),
  };
}

/** A scope's three periods (budgets.ts scopeCounters order: lifetime, day, month) from its totals. */
export function periodsView(refs: CounterRef[], totals: CounterTotals[], at: number) {
  return { lifetime: periodView(refs[at], totals[at]), day: periodView(refs[at + 1], totals[at + 1]), month: periodView(refs[at + 2], totals[at + 2]) };
}

/** Quotes a CSV cell and neutralises spreadsheet formulas (key, team and end-user names are user text). */
export function csvCell(v: string | number | boolean | null): string {
  if (v === null) return '';
  if (typeof v !== 'string') return String(v);
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A CSV document: a header line, then one line per row, each ending in a newline. */
export function csvDocument(header: readonly string[], rows: readonly (readonly (string | number | boolean | null)[])[]): string {
  return [header.join(','), ...rows.map((r) => r.map(csvCell).join(','))].map((l) => `${l}\n`).join('');
}
