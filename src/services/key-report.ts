/**
 * `GET /admin/keys[/:id]`: each key's admin view (keyView) with its spend, reservations and what is
 * left of each budget per period (UTC), when it was last used and its status. One counter read
 * and one last-use read for the whole list, whatever its length.
 */
import { countersFor, NO_LIMITS, type CounterRef } from '../domain/budgets.js';
import type { KeyRecord } from '../store/key-store.js';
import type { LedgerStore } from '../store/ledger-store.js';
import { keyView } from './key-admin.js';
import { csvDocument, periodsView } from './report-format.js';

export type KeyStatus = 'active' | 'revoked' | 'expired';

export function keyStatus(k: Pick<KeyRecord, 'revokedAt' | 'expiresAt'>, now: Date): KeyStatus {
  if (k.revokedAt !== null) return 'revoked';
  if (k.expiresAt !== null && Date.parse(k.expiresAt) <= now.getTime()) return 'expired';
  return 'active';
}

export interface KeyReportFilter {
  team?: string;
  status?: KeyStatus;
}

export type KeyReport = Awaited<ReturnType<typeof keyReports>>[number];

/** The reports of the keys given (in their order) that pass the filter. */
export async function keyReports(ledger: LedgerStore, keys: KeyRecord[], now: Date, filter: KeyReportFilter = {}, onlyKey?: string) {
  const picked = keys.filter((k) => (filter.team === undefined || k.team === filter.team) && (filter.status === undefined || keyStatus(k, now) === filter.status));
  const refs: CounterRef[] = picked.flatMap((k) =>
    countersFor(k.id, { lifetime: k.budgetMicroUsd, day: k.budgetDailyMicroUsd, month: k.budgetMonthlyMicroUsd }, null, NO_LIMITS, now),
  );
  const [totals, lastUsed] = await Promise.all([ledger.counterTotals(refs), ledger.lastUsed(onlyKey)]);
  return picked.map((k, i) => ({
    ...keyView(k),
    status: keyStatus(k, now),
    last_used_at: lastUsed.get(k.id) ?? null,
    usage: periodsView(refs, totals, 3 * i),
  }));
}

export async function keyReport(ledger: LedgerStore, key: KeyRecord, now: Date): Promise<KeyReport> {
  const [report] = await keyReports(ledger, [key], now, {}, key.id);
  if (report === undefined) throw new Error('keyReports dropped an unfiltered key');
  return report;
}

const PERIODS = ['lifetime', 'day', 'month'] as const;
const AMOUNTS = ['spent_usd', 'reserved_usd', 'budget_usd', 'remaining_usd'] as const;

/** One line per key: identity, status, last use, then the four amounts of each period. */
export function keysCsv(reports: KeyReport[]): string {
  const header = ['id', 'name', 'team', 'kind', 'prefix', 'owner', 'status', 'created_at', 'expires_at', 'revoked_at', 'last_used_at', ...PERIODS.flatMap((p) => AMOUNTS.map((a) => `${p}_${a}`))];
  return csvDocument(
    header,
    reports.map((r) => [r.id, r.name, r.team, r.kind, r.prefix, r.owner, r.status, r.created_at, r.expires_at, r.revoked_at, r.last_used_at, ...PERIODS.flatMap((p) => AMOUNTS.map((a) => r.usage[p][a]))]),
  );
}
