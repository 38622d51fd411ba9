/** SQL of the SQLite ledger (sqlite-ledger-store.ts): prepared statements and row mapping. */
import type { LedgerOperation, LedgerRow, LedgerState, SettleSource, UpstreamPhase } from '../ledger-store.js';
import { isOverrun } from '../ledger-fresh-limits.js';
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
  token_id: string | null;
  images: number;
  created_at: string;
  settled_at: string | null;
  upstream_phase: UpstreamPhase;
  deadline_at: string | null;
}

export const LEDGER_COLUMNS =
  'id, key_id, team, operation, fal_request_id, idempotency_key, body_hash, state, outcome, quoted_micro, settled_micro, ' +
  'requested_megapixels, billed_units, settle_source, verified, http_status, end_user, token_id, images, created_at, settled_at, ' +
  'upstream_phase, deadline_at';

/** The row a settle or release moved out of `reserved`: enough to recompute its counters and what it charged them. */
export interface Charged {
  key_id: string;
  team: string | null;
  token_id: string | null;
  quoted_micro: number;
  images: number;
  created_at: string;
}

const CHARGED = 'RETURNING key_id, team, token_id, quoted_micro, images, created_at';

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
      `UPDATE budget_counters SET reserved_micro = reserved_micro + @amount
       WHERE scope = @scope AND bucket = @bucket AND (@limit IS NULL OR spent_micro + reserved_micro + @amount <= @limit)`,
    ),
    move: db.prepare(
      'UPDATE budget_counters SET reserved_micro = reserved_micro + @reserved, spent_micro = spent_micro + @spent WHERE scope = @scope AND bucket = @bucket',
    ),
    totals: db.prepare<[string, string], Totals>('SELECT spent_micro, reserved_micro FROM budget_counters WHERE scope = ? AND bucket = ?'),
    insert: db.prepare(
      `INSERT INTO ledger_entries (id, key_id, team, operation, idempotency_key, body_hash, state, quoted_micro, requested_megapixels,
                                   end_user, token_id, images, created_at)
       VALUES (@id, @keyId, @team, @operation, @idempotencyKey, @bodyHash, 'reserved', @quotedMicro, @requestedMegapixels,
               @endUser, @tokenId, @images, @createdAt)`,
    ),
    settle: db.prepare<Record<string, string | number | null>, Charged>(
      `UPDATE ledger_entries SET state = 'settled', outcome = @outcome, settled_micro = @amount, billed_units = @billedUnits,
         settle_source = @source, verified = @verified, http_status = @httpStatus, settled_at = @at
       WHERE id = @id AND state = 'reserved' ${CHARGED}`,
    ),
    release: db.prepare<Record<string, string | number | null>, Charged>(
      `UPDATE ledger_entries SET state = 'released', outcome = @outcome, http_status = @httpStatus, settled_at = @at
       WHERE id = @id AND state = 'reserved' AND (@onlyUnsent = 0 OR upstream_phase = 'reserved') ${CHARGED}`,
    ),
    markSent: db.prepare("UPDATE ledger_entries SET upstream_phase = 'sent', deadline_at = @deadline WHERE id = @id AND state = 'reserved'"),
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
    tokenId: r.token_id,
    images: r.images,
    createdAt: r.created_at,
    settledAt: r.settled_at,
    upstreamPhase: r.upstream_phase,
    deadlineAt: r.deadline_at,
    overrun: r.state === 'settled' && isOverrun(r.settled_micro, r.quoted_micro),
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
    tokenId: row.tokenId,
    images: row.images,
    createdAt: row.createdAt,
  };
}
