/**
 * LedgerStore on PostgreSQL, shared by every gateway instance. Reserve is one transaction on one
 * connection: per counter (in the lock order of ledger-rules.ts, so concurrent transactions never
 * deadlock) an INSERT … ON CONFLICT DO NOTHING, then a conditional UPDATE carrying the budget check.
 * Under READ COMMITTED a blocked UPDATE re-checks its WHERE against the committed row once the lock
 * is free, so two instances at a budget's edge can never both fit (docs/reliability.md B2).
 */
import type { CounterRef } from '../../domain/budgets.js';
import { mayRetakeIdempotencyKey } from '../ledger-fresh-limits.js';
import { assertSettle, falIdConflict, instant, ReservationRefused, reserveCounters, unknownRow } from '../ledger-rules.js';
import type { CounterTotals, LedgerRow, LedgerStore, ReleaseInput, ReserveInput, ReserveResult, SettleInput, UsageQuery, UsageRow } from '../ledger-store.js';
import type { PgPool } from './postgres-database.js';
import { LEDGER_COLUMNS, maybeRow, toLedgerRow, toUsageRow, usageSql, type PgLedgerRow, type PgUsageRow } from './postgres-ledger-rows.js';
import { CHARGED, reserveIn, selectByIdempotencyKey, uncharge, type Charged } from './postgres-ledger-writes.js';
import { inTransaction, isUniqueViolation } from './postgres-transaction.js';

type Totals = { spent_micro: number; reserved_micro: number };

const SELECT = `SELECT ${LEDGER_COLUMNS} FROM ledger_entries`;

export class PostgresLedgerStore implements LedgerStore {
  constructor(private readonly pool: PgPool) {}

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const refs = reserveCounters(input);
    try {
      return await inTransaction(this.pool, (client) => reserveIn(client, input, refs));
    } catch (err) {
      if (err instanceof ReservationRefused) {
        // A concurrent duplicate may have committed while this one waited on a counter: report it as such.
        const existing = input.idempotencyKey === null ? null : await this.findByIdempotencyKey(input.keyId, input.idempotencyKey);
        return existing && !mayRetakeIdempotencyKey(existing, input) ? { ok: false, reason: 'duplicate', existing } : err.result;
      }
      if (isUniqueViolation(err, 'ledger_idempotency') && input.idempotencyKey !== null) {
        const existing = await this.findByIdempotencyKey(input.keyId, input.idempotencyKey);
        if (existing) return { ok: false, reason: 'duplicate', existing };
      }
      throw err;
    }
  }

  async attachFalRequestId(id: string, falRequestId: string): Promise<void> {
    let updated: number | null;
    try {
      ({ rowCount: updated } = await this.pool.query({
        name: 'fgw_ledger_attach',
        text: 'UPDATE ledger_entries SET fal_request_id = $2 WHERE id = $1 AND (fal_request_id IS NULL OR fal_request_id = $2)',
        values: [id, falRequestId],
      }));
    } catch (err) {
      throw isUniqueViolation(err, 'ledger_fal_request_id') ? falIdConflict(id, falRequestId) : err;
    }
    if (updated !== 1) throw (await this.get(id)) ? falIdConflict(id, falRequestId) : unknownRow(id);
  }

  async markSent(id: string, deadlineAt: string): Promise<boolean> {
    const { rowCount } = await this.pool.query({
      name: 'fgw_ledger_mark_sent',
      text: "UPDATE ledger_entries SET upstream_phase = 'sent', deadline_at = $2 WHERE id = $1 AND state = 'reserved'",
      values: [id, instant(deadlineAt)],
    });
    return rowCount === 1;
  }

  /** The row update and the counter moves commit together, or neither does. */
  async settle(id: string, input: SettleInput): Promise<boolean> {
    assertSettle(input);
    return await inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<Charged>({
        name: 'fgw_ledger_settle',
        text: `UPDATE ledger_entries SET state = 'settled', outcome = $2, settled_micro = $3, billed_units = $4, settle_source = $5,
                 verified = $6, http_status = $7, settled_at = $8
               WHERE id = $1 AND state = 'reserved' ${CHARGED}`,
        values: [id, input.outcome, input.amountMicro, input.billedUnits, input.source, input.verified, input.httpStatus, instant(input.at)],
      });
      return uncharge(client, rows[0], input.amountMicro);
    });
  }

  release(id: string, input: ReleaseInput): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<Charged>({
        name: 'fgw_ledger_release',
        text: `UPDATE ledger_entries SET state = 'released', outcome = $2, http_status = $3, settled_at = $4
               WHERE id = $1 AND state = 'reserved' AND (NOT $5 OR upstream_phase = 'reserved') ${CHARGED}`,
        values: [id, input.outcome, input.httpStatus, instant(input.at), input.onlyUnsent === true],
      });
      return uncharge(client, rows[0], null);
    });
  }

  async get(id: string): Promise<LedgerRow | null> {
    const { rows } = await this.pool.query<PgLedgerRow>({ name: 'fgw_ledger_get', text: `${SELECT} WHERE id = $1`, values: [id] });
    return maybeRow(rows);
  }

  async findByFalRequestId(falRequestId: string): Promise<LedgerRow | null> {
    const { rows } = await this.pool.query<PgLedgerRow>({ name: 'fgw_ledger_by_fal_id', text: `${SELECT} WHERE fal_request_id = $1`, values: [falRequestId] });
    return maybeRow(rows);
  }

  findByIdempotencyKey(keyId: string, idempotencyKey: string): Promise<LedgerRow | null> {
    return selectByIdempotencyKey(this.pool, keyId, idempotencyKey);
  }

  async pending(limit: number): Promise<LedgerRow[]> {
    const { rows } = await this.pool.query<PgLedgerRow>({
      name: 'fgw_ledger_pending',
      text: `${SELECT} WHERE state = 'reserved' ORDER BY created_at, id COLLATE "C" LIMIT $1`,
      values: [Math.max(0, limit)],
    });
    return rows.map(toLedgerRow);
  }

  /** One statement, so one snapshot: totals never mix before and after a concurrent settle. */
  async counterTotals(refs: Pick<CounterRef, 'scope' | 'bucket'>[]): Promise<CounterTotals[]> {
    if (refs.length === 0) return [];
    const { rows } = await this.pool.query<Totals>({
      name: 'fgw_counter_totals',
      text: `SELECT COALESCE(c.spent_micro, 0) AS spent_micro, COALESCE(c.reserved_micro, 0) AS reserved_micro
             FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS r(scope, bucket, i)
             LEFT JOIN budget_counters c ON c.scope = r.scope AND c.bucket = r.bucket ORDER BY r.i`,
      values: [refs.map((r) => r.scope), refs.map((r) => r.bucket)],
    });
    return rows.map((t) => ({ spentMicro: t.spent_micro, reservedMicro: t.reserved_micro }));
  }

  async usage(query: UsageQuery): Promise<UsageRow[]> {
    const { rows } = await this.pool.query<PgUsageRow>(usageSql(query));
    return rows.map(toUsageRow);
  }
}
