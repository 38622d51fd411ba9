/**
 * `GET /admin/teams[/:name]`: every team, those with a budget row and those that only appear on
 * keys, with its budgets, spend, reservations and what is left per period (UTC) and its keys.
 * One counter read for the whole list.
 */
import { countersFor, NO_LIMITS, type CounterRef } from '../domain/budgets.js';
import type { KeyRecord } from '../store/key-store.js';
import type { LedgerStore } from '../store/ledger-store.js';
import type { TeamRecord } from '../store/team-store.js';
import { keyStatus } from './key-report.js';
import { csvDocument, periodsView } from './report-format.js';
import { teamView } from './team-admin.js';

export type TeamReport = Awaited<ReturnType<typeof teamReports>>[number];

/** Teams in byte order of their names; `only` keeps one team (none when it has no row and no key). */
export async function teamReports(ledger: LedgerStore, teams: TeamRecord[], keys: KeyRecord[], now: Date, only?: string) {
  const rows = new Map(teams.map((t) => [t.name, t]));
  const names = new Set([...rows.keys(), ...keys.flatMap((k) => (k.team === null ? [] : [k.team]))]);
  const picked = [...names].filter((n) => only === undefined || n === only).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  // The team's own counters only: countersFor with a throwaway key scope, of which refs 3..5 are the team's.
  const refs: CounterRef[] = picked.flatMap((name) => {
    const t = rows.get(name);
    const limits = t ? { lifetime: t.budgetMicroUsd, day: t.budgetDailyMicroUsd, month: t.budgetMonthlyMicroUsd } : NO_LIMITS;
    return countersFor('', NO_LIMITS, name, limits, now).slice(3);
  });
  const totals = await ledger.counterTotals(refs);
  return picked.map((name, i) => {
    const t = rows.get(name);
    const members = keys.filter((k) => k.team === name);
    return {
      ...(t ? teamView(t) : { name, budget_usd: null, budget_daily_usd: null, budget_monthly_usd: null, updated_at: null }),
      keys: members.length,
      active_keys: members.filter((k) => keyStatus(k, now) === 'active').length,
      usage: periodsView(refs, totals, 3 * i),
    };
  });
}

const PERIODS = ['lifetime', 'day', 'month'] as const;
const AMOUNTS = ['spent_usd', 'reserved_usd', 'budget_usd', 'remaining_usd'] as const;

export function teamsCsv(reports: TeamReport[]): string {
  const header = ['name', 'keys', 'active_keys', 'updated_at', ...PERIODS.flatMap((p) => AMOUNTS.map((a) => `${p}_${a}`))];
  return csvDocument(
    header,
    reports.map((r) => [r.name, r.keys, r.active_keys, r.updated_at, ...PERIODS.flatMap((p) => AMOUNTS.map((a) => r.usage[p][a]))]),
  );
}
