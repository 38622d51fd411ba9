/** Row mapping and the read statements of the SQL ledger (sql-ledger-store.ts). */
import type { LedgerOperation, LedgerRow, LedgerState, SettleSource, UpstreamPhase } from '../ledger-store.js';
import { isOverrun } from '../ledger-fresh-limits.js';
import { sql } from './sql-plan.js';

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
  unit_price_micro: number | null;
}

export const COLUMNS =
  'id, key_id, team, operation, fal_request_id, idempotency_key, body_hash, state, outcome, quoted_micro, settled_micro, ' +
  'requested_megapixels, billed_units, settle_source, verified, http_status, end_user, token_id, images, created_at, settled_at, ' +
  'upstream_phase, deadline_at, unit_price_micro';

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
    unitPriceMicro: r.unit_price_micro === null ? null : Number(r.unit_price_micro),
    overrun: r.state === 'settled' && isOverrun(r.settled_micro, r.quoted_micro),
  };
}

export function maybeRow(row: SqlLedgerRow | undefined): LedgerRow | null {
  return row ? toLedgerRow(row) : null;
}

