/** Row mapping and the read statements of the SQL ledger (sql-ledger-store.ts). */
import type { LedgerOperation, LedgerRow, LedgerState, SettleSource, UpstreamPhase, UsageQuery, UsageRow } from '../ledger-store.js';
import { isOverrun } from '../ledger-fresh-limits.js';
import { instant } from '../ledger-rules.js';
import { sql, type Statement } from './sql-plan.js';

/** As both databases return it: BIGINT as number, instants as ISO text, `verified` as 0/1 (SQLite) or a boolean. */
export interface SqlLedgerRow {
  id: string;
  key_id: string;
  team: string | null;
  operation: LedgerOperation;
  fal_request_id: string | null;
  idempotency_key: string | null;
  body_hash: string | null;
  state: LedgerState;
  outcome: string | null;
  quoted_micro: number;
  settled_micro: number | null;
  requested_megapixels: number;
  billed_units: number | null;
  settle_source: SettleSource | null;
  verified: number | boolean | null;
  http_status: number | null;
  end_user: string | null;
  token_id: string | null;
  images: number;
  created_at: string;
  settled_at: string | null;
  upstream_phase: UpstreamPhase;
  deadline_at: string | null;
}

export const COLUMNS =
  'id, key_id, team, operation, fal_request_id, idempotency_key, body_hash, state, outcome, quoted_micro, settled_micro, ' +
  'requested_megapixels, billed_units, settle_source, verified, http_status, end_user, token_id, images, created_at, settled_at, ' +
  'upstream_phase, deadline_at';

export const READS = {
  byId: sql(`SELECT ${COLUMNS} FROM ledger_entries WHERE id = @id`),
  byFalId: sql(`SELECT ${COLUMNS} FROM ledger_entries WHERE fal_request_id = @falRequestId`),
  byIdem: sql(`SELECT ${COLUMNS} FROM ledger_entries WHERE key_id = @keyId AND idempotency_key = @idempotencyKey`),
  pending: sql(`SELECT ${COLUMNS} FROM ledger_entries WHERE state = 'reserved' ORDER BY created_at, id COLLATE "C" LIMIT @limit`),
};

export function toLedgerRow(r: SqlLedgerRow): LedgerRow {
  return {
    id: r.id,
    keyId: r.key_id,
    team: r.team,
    operation: r.operation,
    falRequestId: r.fal_request_id,
    idempotencyKey: r.idempotency_key,
    bodyHash: r.body_hash,
    state: r.state,
    outcome: r.outcome,
    quotedMicro: r.quoted_micro,
    settledMicro: r.settled_micro,
    requestedMegapixels: r.requested_megapixels,
    billedUnits: r.billed_units,
    settleSource: r.settle_source,
    verified: r.verified === null ? null : Boolean(r.verified),
    httpStatus: r.http_status,
    endUser: r.end_user,
    tokenId: r.token_id,
    images: r.images,
    createdAt: r.created_at,
    settledAt: r.settled_at,
    upstreamPhase: r.upstream_phase,
    deadlineAt: r.deadline_at,
    overrun: r.state === 'settled' && isOverrun(r.settled_micro, r.quoted_micro),
  };
}

export function maybeRow(row: SqlLedgerRow | undefined): LedgerRow | null {
  return row ? toLedgerRow(row) : null;
}

/** The grouping expression per groupBy: fixed text, never input. */
const GROUPS: Record<NonNullable<UsageQuery['groupBy']> | 'all', string> = {
  day: 'utc_day(created_at)',
  key: 'key_id',
  end_user: "COALESCE(end_user, '')",
  all: "'all'::text",
};

/**
 * The usage aggregation (ledger-store.ts UsageRow): released rows are left out entirely; spend,
 * megapixels and billed units count settled rows, `reserved` counts rows still in flight. Days are
 * UTC; groups sort in byte order. Only fixed clause text is concatenated; every value is a bound
 * parameter.
 */
export function usageSql(query: UsageQuery): { stmt: Statement; params: Record<string, string> } {
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
  const text = `SELECT (${group}) COLLATE "C" AS grp, COUNT(*) AS requests,
      COALESCE(SUM(CASE WHEN state = 'settled' THEN settled_micro END), 0)::bigint AS spent,
      COALESCE(SUM(CASE WHEN state = 'reserved' THEN quoted_micro END), 0)::bigint AS reserved,
      COALESCE(SUM(CASE WHEN state = 'settled' THEN requested_megapixels END), 0)::float8 AS megapixels,
      COALESCE(SUM(CASE WHEN state = 'settled' THEN billed_units END), 0)::float8 AS units,
      COUNT(CASE WHEN state = 'settled' AND settled_micro > quoted_micro THEN 1 END) AS overruns
    FROM ledger_entries WHERE ${where.join(' AND ')} ${grouping}`;
  return { stmt: sql(text), params };
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
