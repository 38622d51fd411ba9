/**
 * The reserve transaction of the SQL ledger (sql-ledger-store.ts): the row, the limits in force,
 * the counters, the in-flight caps, in that order.
 */
import type { CounterRef } from '../../domain/budgets.js';
import { applyFreshLimits, mayRetakeIdempotencyKey, teamLimitsOf } from '../ledger-fresh-limits.js';
import { concurrencyRefusal, ReservationRefused, reservedRow } from '../ledger-rules.js';
import type { FreshLimits, LedgerRow, ReserveInput, ReserveResult } from '../ledger-store.js';
import { KEY_COLUMNS, toKeyRecord, type KeyRow } from './sql-key-store.js';
import { chargeCounters, chargeOp, counterParams, refusal } from './sql-ledger-counters.js';
import { maybeRow, READS, type SqlLedgerRow } from './sql-ledger-rows.js';
import { batch, first, lock, op, query, sql, type LockOp, type Params, type Plan, type QueryOp, type Statement } from './sql-plan.js';

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
  return r === undefined ? null : freshOf(r, input.team);
}

function freshOf(r: FreshRow, team: string | null): FreshLimits {
  const t = team === null ? undefined : { budget_micro_usd: r.team_budget_micro_usd, budget_daily_micro_usd: r.team_budget_daily_micro_usd, budget_monthly_micro_usd: r.team_budget_monthly_micro_usd };
  return { key: toKeyRecord(r), team: teamLimitsOf(t) };
}

/** The insert of the reserved row (a repeated idempotency key inserts nothing). */
function insertOp(row: LedgerRow): QueryOp {
  return op(W.insert, {
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
}

/** Inserts the reserved row; false when its idempotency key is another row's. */
function* insertRow(row: LedgerRow): Plan<boolean> {
  const { stmt, params } = insertOp(row);
  return (yield* query(stmt, params)).count === 1;
}

/** The key's columns as `k.<column>` (the guard joins keys and teams, which share column names). */
const K_COLUMNS = KEY_COLUMNS.split(', ')
  .map((c) => `k.${c}`)
  .join(', ');

/** Where the guard finds each counter's limit: the key and team rows as they are now; a token's as given. */
function limitColumn(ref: CounterRef, i: number): string {
  const column = { lifetime: 'budget_micro_usd', day: 'budget_daily_micro_usd', month: 'budget_monthly_micro_usd' }[ref.period];
  if (ref.scopeKind === 'key') return `k.${column}`;
  if (ref.scopeKind === 'team') return `t.${column}`;
  return `@l${i}::bigint`;
}

const guards = new Map<string, Statement>();

/**
 * The guard of a one-message reservation, run after the row's insert and the unchecked charge:
 * it reads the key and team rows in force (as FRESH does) and fails the transaction (fgw_guard)
 * unless the row was inserted, the key is live, every counter's total is within the limit those
 * rows (or the token) give it, and the in-flight counts, this row included, are within the caps.
 * Exactly the conditions under which reservePlan would succeed with the same rows in the database,
 * but for one: reservePlan takes over an idempotency key whose first try never reached fal, which
 * here conflicts and fails (the store then runs reservePlan). test/store/guarded-reserve.test.ts.
 */
function guardSql(refs: CounterRef[], global: boolean): Statement {
  const shape = `${refs.map((r) => `${r.scopeKind}:${r.period}`).join(',')}${global ? '+global' : ''}`;
  let stmt = guards.get(shape);
  if (stmt !== undefined) return stmt;
  const budgets = refs.map((ref, i) => {
    const limit = limitColumn(ref, i);
    return `(${limit} IS NULL OR (SELECT spent_micro + reserved_micro FROM budget_counters WHERE scope = @s${i} AND bucket = @b${i}) <= ${limit})`;
  });
  const conditions = [
    'k.id IS NOT NULL AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > @at::timestamptz)',
    'EXISTS (SELECT 1 FROM ledger_entries WHERE id = @id)',
    ...budgets,
    "(k.max_concurrency IS NULL OR (SELECT COUNT(*) FROM ledger_entries WHERE key_id = @keyId AND state = 'reserved') <= k.max_concurrency)",
    ...(global ? ["(SELECT COUNT(*) FROM ledger_entries WHERE state = 'reserved') <= @global::bigint"] : []),
  ];
  stmt = sql(
    `SELECT ${K_COLUMNS}, t.budget_micro_usd AS team_budget_micro_usd, t.budget_daily_micro_usd AS team_budget_daily_micro_usd,
       t.budget_monthly_micro_usd AS team_budget_monthly_micro_usd,
       fgw_guard(${conditions.join('\n         AND ')}) AS guard
     FROM (SELECT 1 AS one) AS o LEFT JOIN keys k ON k.id = @keyId LEFT JOIN teams t ON t.name = @team::text`,
  );
  guards.set(shape, stmt);
  return stmt;
}

/**
 * A reservation with freshLimits as one batch (on Postgres one message with BEGIN and COMMIT, so
 * a hot key's counter rows are locked for no round trip at all): insert the row, charge every
 * counter, take the gateway-wide lock if there is a cap, and guard (guardSql). If anything would
 * refuse, the guard fails the transaction (GuardFailed) and the caller runs reservePlan, which
 * says why; a success is what reservePlan would have returned.
 */
export function* guardedReservePlan(input: ReserveInput, given: CounterRef[]): Plan<ReserveResult> {
  const row = reservedRow(input);
  const global = input.inFlightLimits?.global ?? null;
  const params: Record<string, Params[string]> = { ...counterParams(given), keyId: input.keyId, team: input.team, id: row.id, at: row.createdAt };
  given.forEach((ref, i) => {
    if (ref.scopeKind === 'token') params[`l${i}`] = ref.limit;
  });
  if (global !== null) params.global = global;
  const ops: (QueryOp | LockOp)[] = [insertOp(row), chargeOp(input, given, true)];
  if (global !== null) ops.push({ kind: 'lock', name: 'global_inflight' });
  ops.push(op(guardSql(given, global !== null), params));
  const results = yield* batch(ops, true);
  const r = results[results.length - 1]?.rows[0] as FreshRow | undefined;
  if (r === undefined) throw new Error('the reservation guard returned no row');
  return { ok: true, row, fresh: freshOf(r, input.team) };
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

/**
 * Why a guarded reservation failed, from reads alone (no row locks, so a burst of refusals at a
 * hot key's budget does not queue on its counters twice): a duplicate idempotency key, a key
 * revoked, missing or expired, the first counter the amount does not fit, an in-flight cap
 * reached. Null when none of these holds any more (room was made, or the idempotency key may be
 * taken over): the caller then runs reservePlan. Each condition returned was true when read, which
 * is after the guard refused, so the answer is one the reservation could have had.
 */
export function* diagnosePlan(input: ReserveInput, given: CounterRef[]): Plan<ReserveResult | null> {
  if (input.idempotencyKey !== null) {
    const existing = maybeRow(yield* first<SqlLedgerRow>(READS.byIdem, { keyId: input.keyId, idempotencyKey: input.idempotencyKey }));
    if (existing !== null) return mayRetakeIdempotencyKey(existing, input) ? null : { ok: false, reason: 'duplicate', existing };
  }
  const applied = applyFreshLimits(input, given, yield* readFreshLimits(input));
  if ('ok' in applied) return applied;
  const budget = yield* refusal(input, applied.refs);
  if (budget !== null) return budget;
  const limits = applied.inFlightLimits;
  // No row of this reservation is in flight: the counts are the others'.
  const keyN = limits?.key != null ? yield* count(W.keyInFlight, input.keyId) : 0;
  const allN = limits?.global != null ? yield* count(W.allInFlight, null) : 0;
  return concurrencyRefusal({ ...input, inFlightLimits: limits }, () => keyN, () => allN);
}
