/**
 * LedgerStore on SQLite or Postgres (sql-plan.ts), one implementation for both.
 *
 * Reserve is one write transaction: on SQLite BEGIN IMMEDIATE, taking the write lock before the
 * first read, so a check-and-charge is atomic against every connection to the file; on Postgres
 * one statement charges every counter under its row lock (sql-ledger-counters.ts), and under READ
 * COMMITTED a blocked conditional write re-checks the committed row once the lock is free, so two
 * instances at a budget's edge can never both fit (docs/reliability.md B2). The row insert carries
 * the idempotency check (its unique index), so a reservation is BEGIN, insert, charge, COMMIT
 * (sql-ledger-reserve.ts), plus one read of the limits in force and the in-flight counts when asked.
 */
import type { CounterRef } from '../../domain/budgets.js';
import { mayRetakeIdempotencyKey } from '../ledger-fresh-limits.js';
import { assertSettle, falIdConflict, instant, ReservationRefused, reserveCounters, unchargeMoves, unknownRow } from '../ledger-rules.js';
import type {
  CounterTotals,
  LedgerPageQuery,
  LedgerRow,
  LedgerStore,
  ReleaseInput,
  ReserveInput,
  ReserveResult,
  SettleInput,
  UsageGridQuery,
  UsageGridRow,
} from '../ledger-store.js';
import { maybeRow, READS, toLedgerRow, type SqlLedgerRow } from './sql-ledger-rows.js';
import { CountersFull, moveCounters, refusal, totals, totalsInChunks } from './sql-ledger-counters.js';
import { gridSql, LAST_USED, pageSql, toGridRow, type GridSqlRow } from './sql-ledger-report.js';
import { diagnosePlan, guardedReservePlan, IdempotencyKeyTaken, reservePlan } from './sql-ledger-reserve.js';
import { batch, first, GuardFailed, op, query, sql, type Params, type Plan, type SqlDb, type Statement } from './sql-plan.js';

interface LastUse {
  key_id: string;
  last: string | null;
}

/** What settle and release return of the row they moved out of `reserved`. */
interface Charged {
  key_id: string;
  team: string | null;
  token_id: string | null;
  quoted_micro: number;
  images: number;
  created_at: string;
}
const CHARGED = 'RETURNING key_id, team, token_id, quoted_micro, images, created_at';

/** A fal id given with a settlement is attached by the same write, unless the row already has another. */
const SAME_FAL = '(@fal::text IS NULL OR fal_request_id IS NULL OR fal_request_id = @fal::text)';

const W = {
  attach: sql('UPDATE ledger_entries SET fal_request_id = @fal WHERE id = @id AND (fal_request_id IS NULL OR fal_request_id = @fal)'),
  /**
   * The owner as releases before 0.2 read it (request_owners only), from the row the attach just
   * changed: in a rolling upgrade their instances still answer the polls of requests submitted
   * through this one. Nothing here reads it first for a new request (sql-ownership-store.ts).
   */
  legacyOwner: sql(
    `INSERT INTO request_owners (request_id, key_id, created_at)
     SELECT fal_request_id, CASE WHEN token_id IS NULL THEN key_id ELSE key_id || '/' || token_id END, created_at
     FROM ledger_entries WHERE id = @id AND fal_request_id = @fal AND operation = 'submit'
     ON CONFLICT (request_id) DO NOTHING`,
  ),
  /** An owner already there for this id (an older release's record) must be this row's, as recordOwner once checked. */
  sameOwner: sql(
    `SELECT fgw_guard(o.key_id = CASE WHEN e.token_id IS NULL THEN e.key_id ELSE e.key_id || '/' || e.token_id END) AS ok
     FROM request_owners o JOIN ledger_entries e ON e.id = @id WHERE o.request_id = @fal`,
  ),
  settle: sql(
    `UPDATE ledger_entries SET state = 'settled', outcome = @outcome, settled_micro = @amount, billed_units = @billedUnits, settle_source = @source,
       verified = @verified, http_status = @httpStatus, settled_at = @at, fal_request_id = COALESCE(@fal::text, fal_request_id)
     WHERE id = @id AND state = 'reserved' AND ${SAME_FAL} ${CHARGED}`,
  ),
  /** `onlyUnsent`: recovery never releases a row whose call may have left. */
  release: sql(
    `UPDATE ledger_entries SET state = 'released', outcome = @outcome, http_status = @httpStatus, settled_at = @at,
       fal_request_id = COALESCE(@fal::text, fal_request_id)
     WHERE id = @id AND state = 'reserved' AND ${SAME_FAL} AND (NOT @onlyUnsent::boolean OR upstream_phase = 'reserved') ${CHARGED}`,
  ),
  markSent: sql("UPDATE ledger_entries SET upstream_phase = 'sent', deadline_at = @deadline WHERE id = @id AND state = 'reserved'"),
  /** A write that contends for nothing, after a contended transaction: its commit flushes the WAL (sql-plan.ts). */
  flush: sql('UPDATE ledger_entries SET state = state WHERE id = @id'),
};

function* unchargePlan(stmt: Statement, params: Params, settledMicro: number | null): Plan<boolean> {
  const c = yield* first<Charged>(stmt, params);
  if (c === undefined) return false;
  const row = { keyId: c.key_id, team: c.team, tokenId: c.token_id, quotedMicro: c.quoted_micro, images: c.images, createdAt: c.created_at };
  yield* moveCounters(unchargeMoves(row, settledMicro));
  return true;
}

/**
 * The UPDATE, which is also the request's ownership record (sql-ownership-store.ts reads the row's
 * key and token by this fal id), the legacy owner row and the check that an owner already recorded
 * for the id is this row's, in one batch (on Postgres one message
 * with its BEGIN and COMMIT). Returns the rows the UPDATE changed.
 */
function* attachPlan(id: string, falRequestId: string): Plan<number> {
  const params = { id, fal: falRequestId };
  const [updated] = yield* batch([op(W.attach, params), op(W.legacyOwner, params), op(W.sameOwner, params)], true);
  return updated?.count ?? 0;
}

export class SqlLedgerStore implements LedgerStore {
  constructor(private readonly db: SqlDb) {}

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const given = reserveCounters(input);
    if (input.freshLimits) {
      // One batch that succeeds whenever reservePlan would (but for the takeover of an idempotency
      // key whose first try never reached fal); anything else (a refusal, a repeated idempotency
      // key) rolls back, and reads tell why, or reservePlan, below, runs when nothing refuses now.
      try {
        return await this.db.transaction(guardedReservePlan(input, given), query(W.flush, { id: input.id }));
      } catch (err) {
        if (!(err instanceof GuardFailed) && !this.db.isUniqueViolation(err)) throw err;
      }
      const refused = await this.db.run(diagnosePlan(input, given));
      if (refused !== null) return refused;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction(reservePlan(input, given), () => query(W.flush, { id: input.id }));
      } catch (err) {
        const full = err instanceof CountersFull;
        if (!full && !(err instanceof ReservationRefused) && !(err instanceof IdempotencyKeyTaken) && !this.db.isUniqueViolation(err)) throw err;
        // A duplicate may have committed while this one waited on a counter: after the rollback a fresh
        // read finds it, and a repeat is answered as one whatever else would have refused it.
        const existing = input.idempotencyKey === null ? null : await this.findByIdempotencyKey(input.keyId, input.idempotencyKey);
        if (existing && !mayRetakeIdempotencyKey(existing, input)) return { ok: false, reason: 'duplicate', existing };
        if (err instanceof ReservationRefused) return err.result;
        if (full) {
          const refused = await this.db.run(refusal(input, err.refs));
          if (refused) return refused;
        } else if (existing === null) {
          throw err;
        }
        // Room was made between the rollback and the read, or a retakable key raced with another
        // attempt: go again, a few times at most.
        if (attempt >= 5) throw new Error('reserve: gave up after 5 attempts (budget counters or an idempotency key kept changing)', { cause: err });
      }
    }
  }

  async attachFalRequestId(id: string, falRequestId: string): Promise<void> {
    let changed: number;
    try {
      changed = await this.db.transaction(attachPlan(id, falRequestId));
    } catch (err) {
      // The fal id's unique index is the only one these writes can violate (the owner row's insert
      // does nothing on a conflict); the guard fails when an owner recorded earlier is another's.
      throw this.db.isUniqueViolation(err) || err instanceof GuardFailed ? falIdConflict(id, falRequestId) : err;
    }
    // Only when it changed no row: a read tells the two refusals apart.
    if (changed !== 1) throw (await this.get(id)) ? falIdConflict(id, falRequestId) : unknownRow(id);
  }

  async markSent(id: string, deadlineAt: string): Promise<boolean> {
    return (await this.db.write(query(W.markSent, { id, deadline: instant(deadlineAt) }))).count === 1;
  }

  /** The row update and the counter moves commit together, or neither does. */
  async settle(id: string, input: SettleInput): Promise<boolean> {
    assertSettle(input);
    const fal = input.falRequestId ?? null;
    const params = {
      id,
      outcome: input.outcome,
      amount: input.amountMicro,
      billedUnits: input.billedUnits,
      source: input.source,
      verified: input.verified,
      httpStatus: input.httpStatus,
      at: instant(input.at),
      fal,
    };
    return this.leave(id, fal, unchargePlan(W.settle, params, input.amountMicro));
  }

  release(id: string, input: ReleaseInput): Promise<boolean> {
    const fal = input.falRequestId ?? null;
    const params = { id, outcome: input.outcome, httpStatus: input.httpStatus, at: instant(input.at), fal, onlyUnsent: input.onlyUnsent === true };
    return this.leave(id, fal, unchargePlan(W.release, params, null));
  }

  async get(id: string): Promise<LedgerRow | null> {
    return maybeRow(await this.db.run(first<SqlLedgerRow>(READS.byId, { id })));
  }

  async findByFalRequestId(falRequestId: string): Promise<LedgerRow | null> {
    return maybeRow(await this.db.run(first<SqlLedgerRow>(READS.byFalId, { falRequestId })));
  }

  async findByIdempotencyKey(keyId: string, idempotencyKey: string): Promise<LedgerRow | null> {
    return maybeRow(await this.db.run(first<SqlLedgerRow>(READS.byIdem, { keyId, idempotencyKey })));
  }

  async pending(limit: number): Promise<LedgerRow[]> {
    return (await this.db.run(query<SqlLedgerRow>(READS.pending, { limit: Math.max(0, limit) }))).rows.map(toLedgerRow);
  }

  counterTotals(refs: Pick<CounterRef, 'scope' | 'bucket'>[]): Promise<CounterTotals[]> {
    return this.db.run(refs.length <= 64 ? totals(refs) : totalsInChunks(refs));
  }

  async usageGrid(q: UsageGridQuery): Promise<UsageGridRow[]> {
    const { stmt, params } = gridSql(q);
    return (await this.db.run(query<GridSqlRow>(stmt, params))).rows.map((r) => toGridRow(r, q.dimensions.length));
  }

  async lastUsed(keyId?: string): Promise<Map<string, string>> {
    const plan = keyId === undefined ? query<LastUse>(LAST_USED.all) : query<LastUse>(LAST_USED.one, { keyId });
    return new Map((await this.db.run(plan)).rows.flatMap((r) => (r.last === null ? [] : [[r.key_id, r.last]])));
  }

  async page(q: LedgerPageQuery): Promise<LedgerRow[]> {
    const { stmt, params } = pageSql(q);
    return (await this.db.run(query<SqlLedgerRow>(stmt, params))).rows.map(toLedgerRow);
  }

  /** Settle or release; with a fal id, a row that is still reserved but has another id is a conflict, not a no-op. */
  private async leave(id: string, fal: string | null, plan: Plan<boolean>): Promise<boolean> {
    let moved: boolean;
    try {
      moved = await this.db.transaction(plan, (left) => (left ? query(W.flush, { id }) : null));
    } catch (err) {
      throw fal !== null && this.db.isUniqueViolation(err) ? falIdConflict(id, fal) : err;
    }
    if (!moved && fal !== null) {
      const row = await this.get(id);
      if (row?.state === 'reserved') throw falIdConflict(id, fal);
    }
    return moved;
  }
}
