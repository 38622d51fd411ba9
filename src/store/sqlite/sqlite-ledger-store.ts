/**
 * LedgerStore on the embedded SQLite database. Reserve is one BEGIN IMMEDIATE transaction: it takes
 * the database's write lock before reading anything, so a reservation's check-and-charge is atomic
 * against every other connection, in this process or another one sharing the file (busy_timeout
 * makes a second writer wait instead of failing). Each counter is charged by a conditional UPDATE
 * that carries the budget check in its WHERE clause (docs/reliability.md B2).
 */
import type { CounterRef } from '../../domain/budgets.js';
import {
  assertSettle,
  attempt,
  budgetRefusal,
  concurrencyRefusal,
  falIdConflict,
  instant,
  ReservationRefused,
  reserveAmount,
  reserveCounters,
  reservedRow,
  unchargeMoves,
  unknownRow,
} from '../ledger-rules.js';
import { applyFreshLimits, mayRetakeIdempotencyKey, teamLimitsOf } from '../ledger-fresh-limits.js';
import type { CounterTotals, FreshLimits, LedgerRow, LedgerStore, ReleaseInput, ReserveInput, ReserveResult, SettleInput, UsageQuery, UsageRow } from '../ledger-store.js';
import type { SqliteDb } from './sqlite-database.js';
import { KEY_COLUMNS, toKeyRecord, type SqliteKeyRow } from './sqlite-key-store.js';
import { insertParams, prepareLedgerStatements, toLedgerRow, type Charged, type SqliteLedgerRow } from './sqlite-ledger-sql.js';
import { toUsageRow, usageSql, type UsageSqlRow } from './sqlite-ledger-usage.js';

export class SqliteLedgerStore implements LedgerStore {
  private readonly stmt;
  private readonly reserveTx;
  private readonly settleTx;
  private readonly releaseTx;
  private readonly totalsTx;
  private readonly keyInFlight;
  private readonly allInFlight;
  private readonly keyRow;
  private readonly teamRow;
  private readonly forgetIdempotencyKey;

  constructor(private readonly db: SqliteDb) {
    this.stmt = prepareLedgerStatements(db);
    this.keyInFlight = db.prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM ledger_entries WHERE key_id = ? AND state = 'reserved'");
    this.allInFlight = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM ledger_entries WHERE state = 'reserved'");
    this.keyRow = db.prepare<[string], SqliteKeyRow>(`SELECT ${KEY_COLUMNS} FROM keys WHERE id = ?`);
    this.teamRow = db.prepare<[string], Parameters<typeof teamLimitsOf>[0]>('SELECT budget_micro_usd, budget_daily_micro_usd, budget_monthly_micro_usd FROM teams WHERE name = ?');
    this.forgetIdempotencyKey = db.prepare('UPDATE ledger_entries SET idempotency_key = NULL WHERE id = ?');
    this.reserveTx = db.transaction((input: ReserveInput, refs: CounterRef[]): ReserveResult => this.reserveInTx(input, refs));
    this.settleTx = db.transaction((id: string, input: SettleInput): boolean => {
      const charged = this.stmt.settle.get({
        id,
        outcome: input.outcome,
        amount: input.amountMicro,
        billedUnits: input.billedUnits,
        source: input.source,
        verified: input.verified ? 1 : 0,
        httpStatus: input.httpStatus,
        at: instant(input.at),
      });
      return this.uncharge(charged, input.amountMicro);
    });
    this.releaseTx = db.transaction((id: string, input: ReleaseInput): boolean => {
      const charged = this.stmt.release.get({ id, outcome: input.outcome, httpStatus: input.httpStatus, at: instant(input.at), onlyUnsent: input.onlyUnsent === true ? 1 : 0 });
      return this.uncharge(charged, null);
    });
    this.totalsTx = db.transaction((refs: Pick<CounterRef, 'scope' | 'bucket'>[]) =>
      refs.map((r): CounterTotals => {
        const t = this.stmt.totals.get(r.scope, r.bucket);
        return { spentMicro: t?.spent_micro ?? 0, reservedMicro: t?.reserved_micro ?? 0 };
      }),
    );
  }

  reserve(input: ReserveInput): Promise<ReserveResult> {
    return attempt(() => {
      const refs = reserveCounters(input);
      try {
        return this.reserveTx.immediate(input, refs);
      } catch (err) {
        if (err instanceof ReservationRefused) return err.result;
        throw err;
      }
    });
  }

  attachFalRequestId(id: string, falRequestId: string): Promise<void> {
    return attempt(() => {
      let changes: number;
      try {
        changes = this.stmt.attach.run({ id, fal: falRequestId }).changes;
      } catch (err) {
        throw isUniqueViolation(err) ? falIdConflict(id, falRequestId) : err;
      }
      if (changes !== 1) throw this.stmt.byId.get(id) ? falIdConflict(id, falRequestId) : unknownRow(id);
    });
  }

  markSent(id: string, deadlineAt: string): Promise<boolean> {
    return attempt(() => this.stmt.markSent.run({ id, deadline: instant(deadlineAt) }).changes === 1);
  }

  /** The row update and the counter moves commit together, or neither does. */
  settle(id: string, input: SettleInput): Promise<boolean> {
    return attempt(() => {
      assertSettle(input);
      return this.settleTx.immediate(id, input);
    });
  }

  release(id: string, input: ReleaseInput): Promise<boolean> {
    return attempt(() => this.releaseTx.immediate(id, input));
  }

  get(id: string): Promise<LedgerRow | null> {
    return Promise.resolve(maybe(this.stmt.byId.get(id)));
  }

  findByFalRequestId(falRequestId: string): Promise<LedgerRow | null> {
    return Promise.resolve(maybe(this.stmt.byFalId.get(falRequestId)));
  }

  findByIdempotencyKey(keyId: string, idempotencyKey: string): Promise<LedgerRow | null> {
    return Promise.resolve(maybe(this.stmt.byIdem.get(keyId, idempotencyKey)));
  }

  pending(limit: number): Promise<LedgerRow[]> {
    return Promise.resolve(this.stmt.pending.all(Math.max(0, limit)).map(toLedgerRow));
  }

  /** One read transaction: a consistent snapshot even while another process writes. */
  counterTotals(refs: Pick<CounterRef, 'scope' | 'bucket'>[]): Promise<CounterTotals[]> {
    return Promise.resolve(this.totalsTx(refs));
  }

  usage(query: UsageQuery): Promise<UsageRow[]> {
    return attempt(() => {
      const { sql, params } = usageSql(query);
      return this.db.prepare<Record<string, string>, UsageSqlRow>(sql).all(params).map(toUsageRow);
    });
  }

  /**
   * Moves the counters of a row that just left `reserved` (undefined: it had already left, so
   * nothing moves): each gives back what reserve charged; on settle (`settledMicro` set) money
   * counters spend the settled amount and image counters the images.
   */
  private uncharge(charged: Charged | undefined, settledMicro: number | null): boolean {
    if (charged === undefined) return false;
    const row = {
      keyId: charged.key_id,
      team: charged.team,
      tokenId: charged.token_id,
      quotedMicro: charged.quoted_micro,
      images: charged.images,
      createdAt: charged.created_at,
    };
    for (const { ref, reservedDelta, spentDelta } of unchargeMoves(row, settledMicro)) {
      const moved = this.stmt.move.run({ scope: ref.scope, bucket: ref.bucket, reserved: reservedDelta, spent: spentDelta });
      if (moved.changes !== 1) throw new Error(`budget counter ${ref.scope}/${ref.bucket} is missing for a reserved row`);
    }
    return true;
  }

  /** Runs after BEGIN IMMEDIATE: the limits it reads are the committed ones, and nobody writes until COMMIT. */
  private reserveInTx(input: ReserveInput, given: CounterRef[]): ReserveResult {
    if (input.idempotencyKey !== null) {
      const found = this.stmt.byIdem.get(input.keyId, input.idempotencyKey);
      const existing = found === undefined ? undefined : toLedgerRow(found);
      if (existing && !mayRetakeIdempotencyKey(existing, input)) return { ok: false, reason: 'duplicate', existing };
      // Rolled back with the rest if this reservation is refused: the key stays with the old row.
      if (existing) this.forgetIdempotencyKey.run(existing.id);
    }
    const fresh = input.freshLimits ? this.readFreshLimits(input) : null;
    const applied = applyFreshLimits(input, given, fresh);
    if ('ok' in applied) throw new ReservationRefused(applied);
    const refs = applied.refs;
    for (const ref of refs) {
      this.stmt.ensureCounter.run(ref.scope, ref.bucket);
      const charged = this.stmt.charge.run({ scope: ref.scope, bucket: ref.bucket, amount: reserveAmount(ref, input), limit: ref.limitMicro });
      if (charged.changes === 1) continue;
      const t = this.stmt.totals.get(ref.scope, ref.bucket);
      if (ref.limitMicro === null || t === undefined) throw new Error(`budget counter ${ref.scope}/${ref.bucket} could not be charged`);
      throw new ReservationRefused(budgetRefusal(ref, ref.limitMicro, t.spent_micro, t.reserved_micro));
    }
    const busy = concurrencyRefusal(
      { ...input, inFlightLimits: applied.inFlightLimits },
      () => this.keyInFlight.get(input.keyId)?.n ?? 0,
      () => this.allInFlight.get()?.n ?? 0,
    );
    if (busy) throw new ReservationRefused(busy);
    const row = reservedRow(input);
    this.stmt.insert.run(insertParams(row));
    return fresh === null ? { ok: true, row } : { ok: true, row, fresh };
  }

  private readFreshLimits(input: ReserveInput): FreshLimits | null {
    const key = this.keyRow.get(input.keyId);
    if (key === undefined) return null;
    return { key: toKeyRecord(key), team: teamLimitsOf(input.team === null ? undefined : this.teamRow.get(input.team)) };
  }
}

function maybe(row: SqliteLedgerRow | undefined): LedgerRow | null {
  return row ? toLedgerRow(row) : null;
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === 'SQLITE_CONSTRAINT_UNIQUE';
}
