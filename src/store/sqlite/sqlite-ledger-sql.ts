/** SQL of the SQLite ledger (sqlite-ledger-store.ts): prepared statements, row mapping, the usage query. */
import type { LedgerOperation, LedgerRow, LedgerState, SettleSource, UsageQuery, UsageRow } from '../ledger-store.js';
import { instant } from '../ledger-rules.js';
import type { SqliteDb } from './sqlite-database.js';

export interface SqliteLedgerRow {
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
  /** SQLite has no boolean: 0/1. */
  verified: number | null;
  http_status: number | null;
  end_user: string | null;
  created_at: string;
  settled_at: string | null;
}

export const LEDGER_COLUMNS =
  'id, key_id, team, operation, fal_request_id, idempotency_key, body_hash, state, outcome, quoted_micro, settled_micro, ' +
  'requested_megapixels, billed_units, settle_source, verified, http_status, end_user, created_at, settled_at';

/** The row a settle or release moved out of `reserved`: enough to recompute its counters. */
export interface Charged {
  key_id: string;
  team: string | null;
  quoted_micro: number;
  created_at: string;
}

interface Totals {
  spent_micro: number;
  reserved_micro: number;
}

/** Every fixed statement of the ledger, prepared once per connection. */
export function prepareLedgerStatements(db: SqliteDb) {
  const select = `SELECT ${LEDGER_COLUMNS} FROM ledger_entries`;
  return {
    byId: db.prepare<[string], SqliteLedgerRow>(`${select} WHERE id = ?`),
    byFalId: db.prepare<[string], SqliteLedgerRow>(`${select} WHERE fal_request_id = ?`),
    byIdem: db.prepare<[string, string], SqliteLedgerRow>(`${select} WHERE key_id = ? AND idempotency_key = ?`),
    pending: db.prepare<[number], SqliteLedgerRow>(`${select} WHERE state = 'reserved' ORDER BY created_at, id LIMIT ?`),
    ensureCounter: db.prepare('INSERT OR IGNORE INTO budget_counters (scope, bucket) VALUES (?, ?)'),
    charge: db.prepare(
      `UPDATE budget_counters SET reserved_micro = reserved_micro + @quoted
       WHERE scope = @scope AND bucket = @bucket AND (@limit IS NULL OR spent_micro + reserved_micro + @quoted <= @limit)`,
    ),
    move: db.prepare(
      'UPDATE budget_counters SET reserved_micro = reserved_micro + @reserved, spent_micro = spent_micro + @spent WHERE scope = @scope AND bucket = @bucket',
    ),
    totals: db.prepare<[string, string], Totals>('SELECT spent_micro, reserved_micro FROM budget_counters WHERE scope = ? AND bucket = ?'),
    insert: db.prepare(
      `INSERT INTO ledger_entries (id, key_id, team, operation, idempotency_key, body_hash, state, quoted_micro, requested_megapixels, end_user, created_at)
       VALUES (@id, @keyId, @team, @operation, @idempotencyKey, @bodyHash, 'reserved', @quotedMicro, @requestedMegapixels, @endUser, @createdAt)`,
    ),
    settle: db.prepare<Record<string, string | number | null>, Charged>(
      `UPDATE ledger_entries SET state = 'settled', outcome = @outcome, settled_micro = @amount, billed_units = @billedUnits,
         settle_source = @source, verified = @verified, http_status = @httpStatus, settled_at = @at
       WHERE id = @id AND state = 'reserved' RETURNING key_id, team, quoted_micro, created_at`,
    ),
    release: db.prepare<Record<string, string | number | null>, Charged>(
      `UPDATE ledger_entries SET state = 'released', outcome = @outcome, http_status = @httpStatus, settled_at = @at
       WHERE id = @id AND state = 'reserved' RETURNING key_id, team, quoted_micro, created_at`,
    ),
    attach: db.prepare('UPDATE ledger_entries SET fal_request_id = @fal WHERE id = @id AND (fal_request_id IS NULL OR fal_request_id = @fal)'),
  };
}

export function toLedgerRow(r: SqliteLedgerRow): LedgerRow {
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
    verified: r.verified === null ? null : r.verified === 1,
    httpStatus: r.http_status,
    endUser: r.end_user,
    createdAt: r.created_at,
    settledAt: r.settled_at,
  };
}

/** Named parameters for inserting a freshly reserved row. */
export function insertParams(row: LedgerRow): Record<string, string | number | null> {
  return {
    id: row.id,
    keyId: row.keyId,
    team: row.team,
    operation: row.operation,
    idempotencyKey: row.idempotencyKey,
    bodyHash: row.bodyHash,
    quotedMicro: row.quotedMicro,
    requestedMegapixels: row.requestedMegapixels,
    endUser: row.endUser,
    createdAt: row.createdAt,
  };
}

export interface UsageSql {
  sql: string;
  params: Record<string, string>;
}

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
  ];
  for (const [name, clause, value] of filters) {
    if (value === undefined) continue;
    where.push(clause);
    params[name] = value;
  }
  const group = query.groupBy === 'day' ? 'substr(created_at, 1, 10)' : query.groupBy === 'key' ? 'key_id' : "'all'";
  const grouping = query.groupBy === undefined ? '' : 'GROUP BY grp ORDER BY grp';
  const sql = `SELECT ${group} AS grp, COUNT(*) AS requests,
      COALESCE(SUM(CASE WHEN state = 'settled' THEN settled_micro END), 0) AS spent,
      COALESCE(SUM(CASE WHEN state = 'reserved' THEN quoted_micro END), 0) AS reserved,
      COALESCE(SUM(CASE WHEN state = 'settled' THEN requested_megapixels END), 0) AS megapixels,
      COALESCE(SUM(CASE WHEN state = 'settled' THEN billed_units END), 0) AS units
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
}

export function toUsageRow(r: UsageSqlRow): UsageRow {
  return { group: r.grp, requests: r.requests, spentMicro: r.spent, reservedMicro: r.reserved, megapixels: r.megapixels, billedUnits: r.units };
}
