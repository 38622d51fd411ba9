/**
 * The reserve transaction of the SQL ledger (sql-ledger-store.ts): the row, the limits in force,
 * the counters, the in-flight caps, in that order.
 */
import type { CounterRef } from '../../domain/budgets.js';
import { applyFreshLimits, mayRetakeIdempotencyKey, teamLimitsOf } from '../ledger-fresh-limits.js';
import { concurrencyRefusal, ReservationRefused, reservedRow } from '../ledger-rules.js';
import type { FreshLimits, LedgerRow, ReserveInput, ReserveResult } from '../ledger-store.js';
import { KEY_COLUMNS, toKeyRecord, type KeyRow } from './sql-key-store.js';
import { chargeCounters } from './sql-ledger-counters.js';
import { maybeRow, READS, type SqlLedgerRow } from './sql-ledger-rows.js';
import { first, lock, query, sql, type Plan, type Statement } from './sql-plan.js';

const W = {
  insert: sql(
    `INSERT INTO ledger_entries (id, key_id, team, operation, idempotency_key, body_hash, state, quoted_micro, requested_megapixels,
                                 end_user, token_id, images, created_at, unit_price_micro)
     VALUES (@id, @keyId, @team, @operation, @idempotencyKey, @bodyHash, 'reserved', @quotedMicro, @requestedMegapixels,
             @endUser, @tokenId, @images, @createdAt, @unitPriceMicro)
     ON CONFLICT (key_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`,
  ),
  forgetIdem: sql('UPDATE ledger_entries SET idempotency_key = NULL WHERE id = @id'),
  keyInFlight: sql("SELECT COUNT(*) AS n FROM ledger_entries WHERE key_id = @keyId AND state = 'reserved'"),
  allInFlight: sql("SELECT COUNT(*) AS n FROM ledger_entries WHERE state = 'reserved'"),
};

/** Thrown inside reserve when the row's idempotency key is taken: rolls the charges back. */
export class IdempotencyKeyTaken extends Error {}

/**
 * The row first, then the counters: the insert carries the idempotency check (a repeat charges
 * nothing) and takes no contended lock, so the hot rows — a key's counters, which every browser
 * token of a public frontend's key counts against — are held only for the charge and the COMMIT.
 */
/** The key row in force and its team's budgets, in one read inside the reserve transaction. */
const FRESH = sql(
  `SELECT ${KEY_COLUMNS},
     (SELECT budget_micro_usd FROM teams WHERE name = @team) AS team_budget_micro_usd,
     (SELECT budget_daily_micro_usd FROM teams WHERE name = @team) AS team_budget_daily_micro_usd,
     (SELECT budget_monthly_micro_usd FROM teams WHERE name = @team) AS team_budget_monthly_micro_usd
   FROM keys WHERE id = @keyId`,
);

interface FreshRow extends KeyRow {
  team_budget_micro_usd: number | null;
  team_budget_daily_micro_usd: number | null;
  team_budget_monthly_micro_usd: number | null;
}

/**
 * Under READ COMMITTED (Postgres) or after BEGIN IMMEDIATE (SQLite): a budget cut or a revocation
 * committed before this statement is seen by it, on whichever instance made it.
 */
function* readFreshLimits(input: ReserveInput): Plan<FreshLimits | null> {
  const r = yield* first<FreshRow>(FRESH, { keyId: input.keyId, team: input.team });
  if (r === undefined) return null;
  const team = input.team === null ? undefined : { budget_micro_usd: r.team_budget_micro_usd, budget_daily_micro_usd: r.team_budget_daily_micro_usd, budget_monthly_micro_usd: r.team_budget_monthly_micro_usd };
  return { key: toKeyRecord(r), team: teamLimitsOf(team) };
}

/** Inserts the reserved row; false when its idempotency key is another row's. */
function* insertRow(row: LedgerRow): Plan<boolean> {
  const inserted = yield* query(W.insert, {
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
    unitPriceMicro: row.unitPriceMicro,
  });
  return inserted.count === 1;
}

/**
 * The row first, then the counters: the insert carries the idempotency check (a repeat charges
 * nothing) and takes no contended lock, so the hot rows — a key's counters, which every browser
 * token of a public frontend's key counts against — are held only for the charge and the COMMIT.
 */
export function* reservePlan(input: ReserveInput, given: CounterRef[]): Plan<ReserveResult> {
  const row = reservedRow(input);
  if (!(yield* insertRow(row))) {
    // The key is taken. A first try released before reaching fal hands it over (rolled back with
    // the rest if this reservation is refused); anything else is a duplicate.
    const existing = maybeRow(yield* first<SqlLedgerRow>(READS.byIdem, { keyId: input.keyId, idempotencyKey: input.idempotencyKey }));
    if (existing === null || !mayRetakeIdempotencyKey(existing, input)) throw new IdempotencyKeyTaken('idempotency key taken');
    yield* query(W.forgetIdem, { id: existing.id });
    if (!(yield* insertRow(row))) throw new IdempotencyKeyTaken('idempotency key taken');
  }
  const fresh = input.freshLimits ? yield* readFreshLimits(input) : null;
  const applied = applyFreshLimits(input, given, fresh);
  if ('ok' in applied) throw new ReservationRefused(applied);
  const limits = applied.inFlightLimits;
  const result: ReserveResult = fresh === null ? { ok: true, row } : { ok: true, row, fresh };
  if (limits?.key == null && limits?.global == null && applied.refs.every((r) => r.limit === null)) {
    // Nothing can refuse this reservation any more: the charge is the final statement, and on
    // Postgres its COMMIT goes with it, so a hot key's counter rows stay locked for no round trip.
    yield* chargeCounters(input, applied.refs, true);
    return result;
  }
  yield* chargeCounters(input, applied.refs);
  // In-flight counts, this row excluded. The key's counters are locked by now, so reservations of
  // one key are serialised and each count sees its predecessors' rows. A gateway-wide cap takes
  // its lock after the counters (one lock order: whoever holds it waits for nothing else).
  const keyN = limits?.key != null ? (yield* count(W.keyInFlight, input.keyId)) - 1 : 0;
  if (limits?.global != null) yield* lock('global_inflight');
  const allN = limits?.global != null ? (yield* count(W.allInFlight, null)) - 1 : 0;
  const busy = concurrencyRefusal({ ...input, inFlightLimits: limits }, () => keyN, () => allN);
  if (busy) throw new ReservationRefused(busy);
  return result;
}

function* count(stmt: Statement, keyId: string | null): Plan<number> {
  const row = yield* first<{ n: number }>(stmt, keyId === null ? {} : { keyId });
  return Number(row?.n ?? 0);
}
