/**
 * Usage reports from the ledger, shared by `GET /admin/usage`, `GET /v1/usage` and `fal-gateway usage`.
 * Amounts leave as USD numbers (exact to the micro-dollar); the ledger keeps integers.
 */
import { countersFor, type BudgetLimits } from '../domain/budgets.js';
import { microToUsdNumber } from '../domain/pricing.js';
import type { KeyRecord } from '../store/key-store.js';
import type { LedgerStore, UsageQuery, UsageRow } from '../store/ledger-store.js';
import type { TeamStore } from '../store/team-store.js';

export interface UsageReport {
  from: string | null;
  to: string | null;
  group_by: 'day' | 'key' | 'end_user' | null;
  total_usd: number;
  reserved_usd: number;
  megapixels: number;
  billed_units: number;
  requests: number;
  /** Settled rows fal billed above their reservation (ledger-overrun.ts): should stay 0. */
  overruns: number;
  rows: { group: string; requests: number; spent_usd: number; reserved_usd: number; megapixels: number; billed_units: number; overruns: number }[];
}

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

function rowView(r: UsageRow) {
  return { group: r.group, requests: r.requests, spent_usd: microToUsdNumber(r.spentMicro), reserved_usd: microToUsdNumber(r.reservedMicro), megapixels: round6(r.megapixels), billed_units: round6(r.billedUnits), overruns: r.overruns };
}

/** Parses a report bound: `YYYY-MM-DD` (midnight UTC) or a full ISO timestamp. Null if invalid. */
export function parseBound(v: string | undefined): string | null | undefined {
  if (v === undefined || v === '') return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00.000Z` : v);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

export async function usageReport(ledger: LedgerStore, q: UsageQuery): Promise<UsageReport> {
  const [total] = await ledger.usage({ ...q, groupBy: undefined });
  const rows = q.groupBy ? await ledger.usage(q) : [];
  const t = total ?? { group: 'all', requests: 0, spentMicro: 0, reservedMicro: 0, megapixels: 0, billedUnits: 0, overruns: 0 };
  return {
    from: q.from ?? null,
    to: q.to ?? null,
    group_by: q.groupBy ?? null,
    total_usd: microToUsdNumber(t.spentMicro),
    reserved_usd: microToUsdNumber(t.reservedMicro),
    megapixels: round6(t.megapixels),
    billed_units: round6(t.billedUnits),
    requests: t.requests,
    overruns: t.overruns,
    rows: rows.map(rowView),
  };
}

export function usageCsv(report: UsageReport): string {
  const lines = ['group,requests,spent_usd,reserved_usd,megapixels,billed_units'];
  const rows = report.rows.length > 0 ? report.rows : [{ group: 'all', requests: report.requests, spent_usd: report.total_usd, reserved_usd: report.reserved_usd, megapixels: report.megapixels, billed_units: report.billed_units }];
  for (const r of rows) lines.push([csvCell(r.group), r.requests, r.spent_usd, r.reserved_usd, r.megapixels, r.billed_units].join(','));
  return `${lines.join('\n')}\n`;
}

/** Quotes a CSV cell and neutralises spreadsheet formulas (a key or team name is user text). */
function csvCell(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

interface PeriodView { spent_usd: number; reserved_usd: number; budget_usd: number | null; remaining_usd: number | null }

/** A key holder's own view: spend, reservations and what is left of each budget (key and team). */
export async function selfUsage(ledger: LedgerStore, teams: TeamStore, key: KeyRecord, now: Date) {
  const keyLimits: BudgetLimits = { lifetime: key.budgetMicroUsd, day: key.budgetDailyMicroUsd, month: key.budgetMonthlyMicroUsd };
  const team = key.team === null ? null : await teams.get(key.team);
  const teamLimits: BudgetLimits = { lifetime: team?.budgetMicroUsd ?? null, day: team?.budgetDailyMicroUsd ?? null, month: team?.budgetMonthlyMicroUsd ?? null };
  const refs = countersFor(key.id, keyLimits, key.team, teamLimits, now);
  const totals = await ledger.counterTotals(refs);
  const view = (i: number): PeriodView => {
    const ref = refs[i];
    const t = totals[i] ?? { spentMicro: 0, reservedMicro: 0 };
    const limit = ref?.limit ?? null;
    return {
      spent_usd: microToUsdNumber(t.spentMicro),
      reserved_usd: microToUsdNumber(t.reservedMicro),
      budget_usd: limit === null ? null : microToUsdNumber(limit),
      remaining_usd: limit === null ? null : microToUsdNumber(Math.max(0, limit - t.spentMicro - t.reservedMicro)),
    };
  };
  const lifetime = view(0);
  return {
    key_id: key.id,
    name: key.name,
    team: key.team,
    ...lifetime,
    day: view(1),
    month: view(2),
    ...(key.team === null ? {} : { team_budgets: { lifetime: view(3), day: view(4), month: view(5) } }),
    limits: { rpm: key.rpm, max_concurrency: key.maxConcurrency },
  };
}
