/** Row mapping and the usage query of the Postgres ledger (postgres-ledger-store.ts). */
import type { LedgerOperation, LedgerRow, LedgerState, SettleSource, UpstreamPhase, UsageQuery, UsageRow } from '../ledger-store.js';
import { isOverrun } from '../ledger-fresh-limits.js';
import { instant } from '../ledger-rules.js';

/** As the pool's type parsers return it: BIGINT as number, TIMESTAMPTZ as ISO text. */
export type PgLedgerRow = {
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
  verified: boolean | null;
  http_status: number | null;
  end_user: string | null;
  token_id: string | null;
  images: number;
  created_at: string;
  settled_at: string | null;
  upstream_phase: UpstreamPhase;
  deadline_at: string | null;
};

export const LEDGER_COLUMNS =
  'id, key_id, team, operation, fal_request_id, idempotency_key, body_hash, state, outcome, quoted_micro, settled_micro, ' +
  'requested_megapixels, billed_units, settle_source, verified, http_status, end_user, token_id, images, created_at, settled_at, ' +
  'upstream_phase, deadline_at';

export function toLedgerRow(r: PgLedgerRow): LedgerRow {
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
    verified: r.verified,
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

export function maybeRow(rows: PgLedgerRow[]): LedgerRow | null {
  const row = rows[0];
  return row ? toLedgerRow(row) : null;
}

export type PgUsageRow = { grp: string; requests: number; spent: number; reserved: number; megapixels: number; units: number; overruns: number };

/** The grouping expression per groupBy: fixed text, never input. */
const GROUPS: Record<NonNullable<UsageQuery['groupBy']> | 'all', string> = {
  day: `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  key: 'key_id',
  end_user: `COALESCE(end_user, '')`,
  all: `'all'::text`,
};

/**
 * The usage aggregation (ledger-store.ts UsageRow): released rows are left out entirely; spend,
 * megapixels and billed units count settled rows, `reserved` counts rows still in flight. Days are
 * UTC whatever the session time zone; groups sort in byte order (COLLATE "C") like the other
 * adapters. Only fixed clause text is concatenated; every value is a bound parameter.
 */
export function usageSql(query: UsageQuery): { text: string; values: string[] } {
  const where = ["state <> 'released'"];
  const values: string[] = [];
  const filters: [string, string | undefined][] = [
    ['key_id = $', query.keyId],
    ['team = $', query.team],
    ['created_at >= $', query.from === undefined ? undefined : instant(query.from)],
    ['created_at < $', query.to === undefined ? undefined : instant(query.to)],
    ['end_user = $', query.endUser],
  ];
  for (const [clause, value] of filters) {
    if (value === undefined) continue;
    values.push(value);
    where.push(`${clause}${values.length}`);
  }
  const group = GROUPS[query.groupBy ?? 'all'];
  const grouping = query.groupBy === undefined ? '' : 'GROUP BY grp ORDER BY grp';
  const text = `SELECT (${group}) COLLATE "C" AS grp, COUNT(*) AS requests,
      COALESCE(SUM(CASE WHEN state = 'settled' THEN settled_micro END), 0)::bigint AS spent,
      COALESCE(SUM(CASE WHEN state = 'reserved' THEN quoted_micro END), 0)::bigint AS reserved,
      COALESCE(SUM(CASE WHEN state = 'settled' THEN requested_megapixels END), 0)::float8 AS megapixels,
      COALESCE(SUM(CASE WHEN state = 'settled' THEN billed_units END), 0)::float8 AS units,
      COUNT(*) FILTER (WHERE state = 'settled' AND settled_micro > quoted_micro)::int AS overruns
    FROM ledger_entries WHERE ${where.join(' AND ')} ${grouping}`;
  return { text, values };
}

export function toUsageRow(r: PgUsageRow): UsageRow {
  return { group: r.grp, requests: r.requests, spentMicro: r.spent, reservedMicro: r.reserved, megapixels: r.megapixels, billedUnits: r.units, overruns: r.overruns };
}
