/**
 * The transactional bodies of the Postgres ledger (postgres-ledger-store.ts): reserve's
 * check-and-charge and the counter moves of settle and release. Each runs on the one connection of
 * its transaction and locks counters in the lock order of ledger-rules.ts.
 */
import type pg from 'pg';
import type { CounterRef } from '../../domain/budgets.js';
import { budgetRefusal, concurrencyRefusal, ReservationRefused, reserveAmount, reservedRow, unchargeMoves } from '../ledger-rules.js';
import { applyFreshLimits, mayRetakeIdempotencyKey, teamLimitsOf } from '../ledger-fresh-limits.js';
import type { FreshLimits, LedgerRow, ReserveInput, ReserveResult } from '../ledger-store.js';
import type { PgPool } from './postgres-database.js';
import { KEY_COLUMNS, toKeyRecord, type PgKeyRow } from './postgres-key-store.js';
import { LEDGER_COLUMNS, maybeRow, type PgLedgerRow } from './postgres-ledger-rows.js';

/** What settle and release return of the row they moved out of `reserved`. */
export type Charged = { key_id: string; team: string | null; token_id: string | null; quoted_micro: number; images: number; created_at: string };
export const CHARGED = 'RETURNING key_id, team, token_id, quoted_micro, images, created_at';

type Totals = { spent_micro: number; reserved_micro: number };

/**
 * Reserve inside its transaction. Per counter an INSERT … ON CONFLICT DO NOTHING, then a
 * conditional UPDATE carrying the budget check (the quote, or the images on a token's image
 * counter); a refusal throws ReservationRefused so the transaction rolls back.
 */
export async function reserveIn(client: pg.PoolClient, input: ReserveInput, given: CounterRef[]): Promise<ReserveResult> {
  // A gateway-wide in-flight cap serialises every reservation that has one (taken first: one lock
  // order), per schema, so gateways sharing a database but not a schema do not wait on each other.
  if (input.inFlightLimits?.global != null) {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('fgw_global_inflight'), hashtext(current_schema()))");
  }
  if (input.idempotencyKey !== null) {
    const existing = await selectByIdempotencyKey(client, input.keyId, input.idempotencyKey);
    if (existing && !mayRetakeIdempotencyKey(existing, input)) return { ok: false, reason: 'duplicate', existing };
    // Rolled back with the rest if this reservation is refused: the key stays with the old row.
    if (existing) await client.query({ name: 'fgw_ledger_forget_idem', text: 'UPDATE ledger_entries SET idempotency_key = NULL WHERE id = $1', values: [existing.id] });
  }
  const fresh = input.freshLimits ? await readFreshLimits(client, input) : null;
  const applied = applyFreshLimits(input, given, fresh);
  if ('ok' in applied) throw new ReservationRefused(applied);
  const refs = applied.refs;
  for (const ref of refs) {
    await client.query({
      name: 'fgw_counter_ensure',
      text: 'INSERT INTO budget_counters (scope, bucket) VALUES ($1, $2) ON CONFLICT (scope, bucket) DO NOTHING',
      values: [ref.scope, ref.bucket],
    });
    const charged = await client.query({
      name: 'fgw_counter_charge',
      text: `UPDATE budget_counters SET reserved_micro = reserved_micro + $3
             WHERE scope = $1 AND bucket = $2 AND ($4::bigint IS NULL OR spent_micro + reserved_micro + $3 <= $4::bigint)`,
      values: [ref.scope, ref.bucket, reserveAmount(ref, input), ref.limitMicro],
    });
    if (charged.rowCount === 1) continue;
    const { rows } = await client.query<Totals>({
      name: 'fgw_counter_read',
      text: 'SELECT spent_micro, reserved_micro FROM budget_counters WHERE scope = $1 AND bucket = $2',
      values: [ref.scope, ref.bucket],
    });
    const t = rows[0];
    if (ref.limitMicro === null || t === undefined) throw new Error(`budget counter ${ref.scope}/${ref.bucket} could not be charged`);
    throw new ReservationRefused(budgetRefusal(ref, ref.limitMicro, t.spent_micro, t.reserved_micro));
  }
  await checkInFlight(client, { ...input, inFlightLimits: applied.inFlightLimits });
  const row = reservedRow(input);
  const { rows } = await client.query<PgLedgerRow>({
    name: 'fgw_ledger_reserve',
    text: `INSERT INTO ledger_entries (id, key_id, team, operation, idempotency_key, body_hash, state, quoted_micro, requested_megapixels,
                                      end_user, token_id, images, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'reserved', $7, $8, $9, $10, $11, $12) RETURNING ${LEDGER_COLUMNS}`,
    values: [
      row.id,
      row.keyId,
      row.team,
      row.operation,
      row.idempotencyKey,
      row.bodyHash,
      row.quotedMicro,
      row.requestedMegapixels,
      row.endUser,
      row.tokenId,
      row.images,
      row.createdAt,
    ],
  });
  const inserted = maybeRow(rows);
  if (!inserted) throw new Error('INSERT … RETURNING returned no row');
  return fresh === null ? { ok: true, row: inserted } : { ok: true, row: inserted, fresh };
}

/**
 * The key and team rows in force, read in the reserve transaction. Read committed: a budget cut or
 * a revocation committed before this statement is seen by it, on whichever instance made it.
 */
async function readFreshLimits(client: pg.PoolClient, input: ReserveInput): Promise<FreshLimits | null> {
  const { rows } = await client.query<PgKeyRow>({ name: 'fgw_reserve_key', text: `SELECT ${KEY_COLUMNS} FROM keys WHERE id = $1`, values: [input.keyId] });
  const key = rows[0];
  if (key === undefined) return null;
  if (input.team === null) return { key: toKeyRecord(key), team: teamLimitsOf(undefined) };
  const team = await client.query<Parameters<typeof teamLimitsOf>[0] & object>({
    name: 'fgw_reserve_team',
    text: 'SELECT budget_micro_usd, budget_daily_micro_usd, budget_monthly_micro_usd FROM teams WHERE name = $1',
    values: [input.team],
  });
  return { key: toKeyRecord(key), team: teamLimitsOf(team.rows[0]) };
}

/**
 * The in-flight caps. The key's counters are locked by now (and the global advisory lock taken
 * when there is a global cap), so the reservations these counts cover are serialised and each
 * count sees the rows its predecessors committed (READ COMMITTED: a fresh snapshot per statement).
 */
async function checkInFlight(client: pg.PoolClient, input: ReserveInput): Promise<void> {
  const limits = input.inFlightLimits;
  if (limits?.key == null && limits?.global == null) return;
  const count = async (text: string, values: string[]) => Number((await client.query<{ n: string }>({ text, values })).rows[0]?.n ?? 0);
  const keyN = limits.key != null ? await count("SELECT COUNT(*) AS n FROM ledger_entries WHERE key_id = $1 AND state = 'reserved'", [input.keyId]) : 0;
  const globalN = limits.global != null ? await count("SELECT COUNT(*) AS n FROM ledger_entries WHERE state = 'reserved'", []) : 0;
  const busy = concurrencyRefusal(input, () => keyN, () => globalN);
  if (busy) throw new ReservationRefused(busy);
}

export async function selectByIdempotencyKey(db: PgPool | pg.PoolClient, keyId: string, idempotencyKey: string): Promise<LedgerRow | null> {
  const { rows } = await db.query<PgLedgerRow>({
    name: 'fgw_ledger_by_idempotency_key',
    text: `SELECT ${LEDGER_COLUMNS} FROM ledger_entries WHERE key_id = $1 AND idempotency_key = $2`,
    values: [keyId, idempotencyKey],
  });
  return maybeRow(rows);
}

/**
 * Moves the counters of a row that just left `reserved` (undefined: it had already left, so
 * nothing moves), in lock order: each gives back what reserve charged; on settle (`settledMicro`
 * set) money counters spend the settled amount and image counters the images.
 */
export async function uncharge(client: pg.PoolClient, charged: Charged | undefined, settledMicro: number | null): Promise<boolean> {
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
    const moved = await client.query({
      name: 'fgw_counter_move',
      text: 'UPDATE budget_counters SET reserved_micro = reserved_micro + $3, spent_micro = spent_micro + $4 WHERE scope = $1 AND bucket = $2',
      values: [ref.scope, ref.bucket, reservedDelta, spentDelta],
    });
    if (moved.rowCount !== 1) throw new Error(`budget counter ${ref.scope}/${ref.bucket} is missing for a reserved row`);
  }
  return true;
}
