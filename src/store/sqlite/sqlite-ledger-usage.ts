/** The usage query of the SQLite ledger (sqlite-ledger-store.ts). */
import { instant } from '../ledger-rules.js';
import type { UsageQuery, UsageRow } from '../ledger-store.js';

export interface UsageSql {
  sql: string;
  params: Record<string, string>;
}

/** The grouping expression per groupBy: fixed text, never input. */
const GROUPS: Record<NonNullable<UsageQuery['groupBy']> | 'all', string> = {
  day: 'substr(created_at, 1, 10)',
  key: 'key_id',
  end_user: "COALESCE(end_user, '')",
  all: "'all'",
};

/**
 * The usage aggregation (ledger-store.ts UsageRow): released rows are left out entirely; spend,
 * megapixels and billed units count settled rows, `reserved` counts rows still in flight. Only
 * fixed clause text is concatenated; every value is a bound parameter.
 */
export function usageSql(query: UsageQuery): UsageSql {
  const where = ["state <> 'released'"];
  const params: Record<string, string> = {};
  const filters: [string, string, string | undefined][] = [
    ['keyId', 'key_id = @keyId', query.keyId],
    ['team', 'team = @team', query.team],
    ['from', 'created_at >= @from', query.from === undefined ? undefined : instant(query.from)],
    ['to', 'created_at < @to', query.to === undefined ? undefined : instant(query.to)],
    ['endUser', 'end_user = @endUser', query.endUser],
  ];
  for (const [name, clause, value] of filters) {
    if (value === undefined) continue;
    where.push(clause);
    params[name] = value;
  }
  const group = GROUPS[query.groupBy ?? 'all'];
  const grouping = query.groupBy === undefined ? '' : 'GROUP BY grp ORDER BY grp';
  const sql = `SELECT ${group} AS grp, COUNT(*) AS requests,
      COALESCE(SUM(CASE WHEN state = 'settled' THEN settled_micro END), 0) AS spent,
      COALESCE(SUM(CASE WHEN state = 'reserved' THEN quoted_micro END), 0) AS reserved,
      COALESCE(SUM(CASE WHEN state = 'settled' THEN requested_megapixels END), 0) AS megapixels,
      COALESCE(SUM(CASE WHEN state = 'settled' THEN billed_units END), 0) AS units,
      COUNT(CASE WHEN state = 'settled' AND settled_micro > quoted_micro THEN 1 END) AS overruns
    FROM ledger_entries WHERE ${where.join(' AND ')} ${grouping}`;
  return { sql, params };
}

export interface UsageSqlRow {
  grp: string;
  requests: number;
  spent: number;
  reserved: number;
  megapixels: number;
  units: number;
  overruns: number;
}

export function toUsageRow(r: UsageSqlRow): UsageRow {
  return { group: r.grp, requests: r.requests, spentMicro: r.spent, reservedMicro: r.reserved, megapixels: r.megapixels, billedUnits: r.units, overruns: r.overruns };
}
