/**
 * The budget-counter statements of the SQL ledger. Each touches all of a row's counters in one
 * statement: an INSERT … VALUES in lock order (ledger-rules.ts counterOrder) with ON CONFLICT DO
 * UPDATE, which takes each counter's row lock in the order of its VALUES, so concurrent
 * transactions on Postgres can never wait on each other in a cycle. Texts depend only on how many
 * counters there are and which carry a limit, so they stay few and prepared.
 */
import type { CounterRef } from '../../domain/budgets.js';
import { budgetRefusal, ReservationRefused, reserveAmount, type CounterMove } from '../ledger-rules.js';
import type { CounterTotals, ReserveInput } from '../ledger-store.js';
import { query, sql, type Plan, type SqlValue } from './sql-plan.js';

interface CounterRow {
  scope: string;
  bucket: string;
  spent_micro: number;
  reserved_micro: number;
}

const counterKey = (c: Pick<CounterRef, 'scope' | 'bucket'>): string => `${c.scope}\u0000${c.bucket}`;

/** `CASE WHEN excluded is counter i THEN @<name>i … END` over the counters `pick` keeps. */
function perCounter(count: number, name: string, pick: (i: number) => boolean, otherwise: string): string {
  const whens = Array.from({ length: count }, (_, i) => i)
    .filter(pick)
    .map((i) => `WHEN excluded.scope = @s${i} AND excluded.bucket = @b${i} THEN @${name}${i}::bigint`);
  return whens.length === 0 ? otherwise : `CASE ${whens.join(' ')} ELSE ${otherwise} END`;
}

function values(count: number, amount: string): string {
  return Array.from({ length: count }, (_, i) => `(@s${i}, @b${i}, @${amount}${i}::bigint)`).join(', ');
}

/**
 * Charges every counter its amount where it fits: a new counter is inserted with it, an existing one
 * is updated only if spent + reserved + amount ≤ its limit. Returns the counters charged, with their
 * totals after the charge (a new counter over its limit comes back over it: the caller refuses).
 */
function chargeSql(refs: CounterRef[]) {
  const limit = perCounter(refs.length, 'l', (i) => refs[i]?.limitMicro != null, 'NULL');
  return sql(`INSERT INTO budget_counters (scope, bucket, reserved_micro) VALUES ${values(refs.length, 'a')}
    ON CONFLICT (scope, bucket) DO UPDATE SET reserved_micro = budget_counters.reserved_micro + excluded.reserved_micro
    WHERE COALESCE(budget_counters.spent_micro + budget_counters.reserved_micro + excluded.reserved_micro <= ${limit}, TRUE)
    RETURNING scope, bucket, spent_micro, reserved_micro`);
}

function counterParams(refs: Pick<CounterRef, 'scope' | 'bucket'>[]): Record<string, SqlValue> {
  const params: Record<string, SqlValue> = {};
  refs.forEach((ref, i) => Object.assign(params, { [`s${i}`]: ref.scope, [`b${i}`]: ref.bucket }));
  return params;
}

/**
 * Charges a reservation's counters (in lock order) and throws ReservationRefused, rolling the
 * transaction back, for the first one in that order that would exceed its limit.
 */
export function* chargeCounters(input: ReserveInput, refs: CounterRef[]): Plan<void> {
  const params = counterParams(refs);
  refs.forEach((ref, i) => Object.assign(params, { [`a${i}`]: reserveAmount(ref, input), [`l${i}`]: ref.limitMicro }));
  const charged = new Map((yield* query<CounterRow>(chargeSql(refs), params)).rows.map((r) => [counterKey(r), r]));
  for (const ref of refs) {
    const after = charged.get(counterKey(ref));
    if (ref.limitMicro === null) {
      if (after === undefined) throw new Error(`budget counter ${ref.scope}/${ref.bucket} could not be charged`);
      continue;
    }
    if (after !== undefined && after.spent_micro + after.reserved_micro <= ref.limitMicro) continue;
    // Refused: report the totals before this reservation, read in the same transaction.
    const before = after ? { spentMicro: after.spent_micro, reservedMicro: after.reserved_micro - reserveAmount(ref, input) } : (yield* totals([ref]))[0];
    throw new ReservationRefused(budgetRefusal(ref, ref.limitMicro, before?.spentMicro ?? 0, before?.reservedMicro ?? 0));
  }
}

/**
 * Applies the moves that take a row out of `reserved` (ledger-rules.ts unchargeMoves), in lock
 * order. A counter that is missing (reserve always creates them) is created with the spend, so a
 * settlement of money fal billed is never lost to it.
 */
export function* moveCounters(moves: CounterMove[]): Plan<void> {
  const refs = moves.map((m) => m.ref);
  const params = counterParams(refs);
  moves.forEach((m, i) => Object.assign(params, { [`p${i}`]: m.spentDelta, [`r${i}`]: -m.reservedDelta }));
  const giveBack = perCounter(moves.length, 'r', () => true, '0');
  yield* query(
    sql(`INSERT INTO budget_counters (scope, bucket, spent_micro) VALUES ${values(moves.length, 'p')}
      ON CONFLICT (scope, bucket) DO UPDATE SET spent_micro = budget_counters.spent_micro + excluded.spent_micro,
        reserved_micro = budget_counters.reserved_micro - ${giveBack}`),
    params,
  );
}

/** Totals of counters in the order given (missing ones read as zero), from one statement: one snapshot. */
export function* totals(refs: Pick<CounterRef, 'scope' | 'bucket'>[]): Plan<CounterTotals[]> {
  if (refs.length === 0) return [];
  const where = refs.map((_, i) => `(scope = @s${i} AND bucket = @b${i})`).join(' OR ');
  const rows = (yield* query<CounterRow>(sql(`SELECT scope, bucket, spent_micro, reserved_micro FROM budget_counters WHERE ${where}`), counterParams(refs))).rows;
  const found = new Map(rows.map((r) => [counterKey(r), r]));
  return refs.map((ref) => {
    const t = found.get(counterKey(ref));
    return { spentMicro: t?.spent_micro ?? 0, reservedMicro: t?.reserved_micro ?? 0 };
  });
}
