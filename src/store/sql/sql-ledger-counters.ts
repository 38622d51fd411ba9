/**
 * The budget-counter statements of the SQL ledger. Each touches all of a row's counters in one
 * statement: an INSERT … VALUES in lock order (ledger-rules.ts counterOrder) with ON CONFLICT DO
 * UPDATE, which takes each counter's row lock in the order of its VALUES, so concurrent
 * transactions on Postgres can never wait on each other in a cycle. Texts depend only on how many
 * counters there are and which carry a limit, so they stay few and prepared.
 */
import { fits, type CounterRef } from '../../domain/budgets.js';
import { budgetRefusal, reserveAmount, type CounterMove } from '../ledger-rules.js';
import type { CounterTotals, ReserveInput, ReserveResult } from '../ledger-store.js';
import { finalQuery, query, sql, type Plan, type QueryOp, type SqlValue, type Statement } from './sql-plan.js';

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

/** Statements per shape (counter count, which carry limits): built once, then looked up. */
const shapes = new Map<string, Statement>();
function shaped(key: string, build: () => string): Statement {
  let stmt = shapes.get(key);
  if (stmt === undefined) shapes.set(key, (stmt = sql(build())));
  return stmt;
}

/**
 * Charges every counter its amount where it fits: a new counter is inserted only if the amount is
 * within its limit, an existing one updated only if spent + reserved + amount ≤ its limit. No
 * RETURNING: the count of rows written says whether all fit (RETURNING doubles the statement's
 * cost on SQLite).
 */
function chargeSql(refs: CounterRef[]): Statement {
  const mask = refs.map((r) => (r.limit === null ? '0' : '1')).join('');
  return shaped(`charge:${mask}`, () => {
    const rows = refs.map((_, i) => `(@s${i}::text, @b${i}::text, @a${i}::bigint, @l${i}::bigint)`).join(', ');
    const limit = perCounter(refs.length, 'l', (i) => refs[i]?.limit != null, 'NULL');
    return `INSERT INTO budget_counters (scope, bucket, reserved_micro)
      SELECT column1, column2, column3 FROM (VALUES ${rows}) AS v WHERE column4 IS NULL OR column3 <= column4
      ON CONFLICT (scope, bucket) DO UPDATE SET reserved_micro = budget_counters.reserved_micro + excluded.reserved_micro
      WHERE COALESCE(budget_counters.spent_micro + budget_counters.reserved_micro + excluded.reserved_micro <= ${limit}, TRUE)`;
  });
}

/** Parameter names per counter position, made once each: `s3`, `b3`, … */
const NAMES: { s: string; b: string; a: string; l: string; p: string; r: string }[] = [];
function names(i: number): { s: string; b: string; a: string; l: string; p: string; r: string } {
  let n = NAMES[i];
  if (n === undefined) NAMES[i] = n = { s: `s${i}`, b: `b${i}`, a: `a${i}`, l: `l${i}`, p: `p${i}`, r: `r${i}` };
  return n;
}

export function counterParams(refs: Pick<CounterRef, 'scope' | 'bucket'>[]): Record<string, SqlValue> {
  const params: Record<string, SqlValue> = {};
  refs.forEach((ref, i) => {
    const n = names(i);
    params[n.s] = ref.scope;
    params[n.b] = ref.bucket;
  });
  return params;
}

/** Thrown inside reserve when a counter would exceed its limit: the transaction rolls back. */
export class CountersFull extends Error {
  /** `refs`: the counters as charged (their limits may have been read in the transaction). */
  constructor(readonly refs: CounterRef[]) {
    super('a budget counter is full');
  }
}

/**
 * The charge of a reservation's counters, in lock order: each where it fits its limit, or with
 * `unchecked` every one whatever its limit (a guard statement after it checks the totals).
 */
export function chargeOp(input: ReserveInput, refs: CounterRef[], unchecked = false): QueryOp {
  const params = counterParams(refs);
  refs.forEach((ref, i) => {
    const n = names(i);
    params[n.a] = reserveAmount(ref, input);
    params[n.l] = unchecked ? null : ref.limit;
  });
  return { kind: 'query', stmt: chargeSql(unchecked ? refs.map((r) => ({ ...r, limit: null })) : refs), params };
}

/**
 * Charges a reservation's counters, in lock order, or throws CountersFull. `final` (only for
 * counters without a limit, which always take the charge): the statement ends the plan
 * (sql-plan.ts finalQuery), so its count is not read.
 */
export function* chargeCounters(input: ReserveInput, refs: CounterRef[], final = false): Plan<void> {
  const { stmt, params } = chargeOp(input, refs);
  if (final) {
    if (refs.some((r) => r.limit !== null)) throw new Error('a charge under a limit can refuse: it cannot be final');
    return yield* finalQuery(stmt, params);
  }
  if ((yield* query(stmt, params)).count !== refs.length) throw new CountersFull(refs);
}

/**
 * The refusal for counters that did not all fit, from totals read after the rollback: the first
 * counter in lock order that the amount does not fit (the order every adapter reports in), or
 * null when a concurrent settle or release has made room since.
 */
export function* refusal(input: ReserveInput, refs: CounterRef[]): Plan<ReserveResult | null> {
  const now = yield* totals(refs);
  for (const [i, ref] of refs.entries()) {
    const t = now[i];
    if (ref.limit === null || t === undefined) continue;
    if (!fits(ref.limit, t.spentMicro, t.reservedMicro, reserveAmount(ref, input))) return budgetRefusal(ref, ref.limit, t.spentMicro, t.reservedMicro);
  }
  return null;
}

/**
 * Applies the moves that take a row out of `reserved` (ledger-rules.ts unchargeMoves), in lock
 * order. A counter that is missing (reserve always creates them) is created with the spend, so a
 * settlement of money fal billed is never lost to it. The statement cannot refuse, so it is the
 * settle's final one: on Postgres the COMMIT goes with it and the hot counter rows are locked for
 * no round trip at all (the caller must end its plan after it).
 */
export function* moveCounters(moves: CounterMove[]): Plan<void> {
  const refs = moves.map((m) => m.ref);
  const params = counterParams(refs);
  moves.forEach((m, i) => {
    const n = names(i);
    params[n.p] = m.spentDelta;
    params[n.r] = -m.reservedDelta;
  });
  const stmt = shaped(`move:${moves.length}`, () => {
    const rows = moves.map((_, i) => `(@s${i}, @b${i}, @p${i}::bigint)`).join(', ');
    return `INSERT INTO budget_counters (scope, bucket, spent_micro) VALUES ${rows}
      ON CONFLICT (scope, bucket) DO UPDATE SET spent_micro = budget_counters.spent_micro + excluded.spent_micro,
        reserved_micro = budget_counters.reserved_micro - ${perCounter(moves.length, 'r', () => true, '0')}`;
  });
  yield* finalQuery(stmt, params);
}

/** Totals of counters in the order given (missing ones read as zero), from one statement: one snapshot. */
export function* totals(refs: Pick<CounterRef, 'scope' | 'bucket'>[]): Plan<CounterTotals[]> {
  if (refs.length === 0) return [];
  const stmt = shaped(`totals:${refs.length}`, () => {
    const where = refs.map((_, i) => `(scope = @s${i} AND bucket = @b${i})`).join(' OR ');
    return `SELECT scope, bucket, spent_micro, reserved_micro FROM budget_counters WHERE ${where}`;
  });
  const rows = (yield* query<CounterRow>(stmt, counterParams(refs))).rows;
  const found = new Map(rows.map((r) => [counterKey(r), r]));
  return refs.map((ref) => {
    const t = found.get(counterKey(ref));
    return { spentMicro: t?.spent_micro ?? 0, reservedMicro: t?.reserved_micro ?? 0 };
  });
}

/** Chunk sizes of a long totals read: few statement shapes, at most 2 × 64 parameters each. */
const CHUNK = 64;

/**
 * Totals of many counters (a report over every key): chunks of CHUNK, the last padded with its
 * own last counter so every statement has one shape; the chunks read one after another, not one
 * snapshot, which a report tolerates (each counter is exact as of its read).
 */
export function* totalsInChunks(refs: Pick<CounterRef, 'scope' | 'bucket'>[]): Plan<CounterTotals[]> {
  const out: CounterTotals[] = [];
  for (let i = 0; i < refs.length; i += CHUNK) {
    const chunk = refs.slice(i, i + CHUNK);
    const last = chunk[chunk.length - 1];
    const padded = last === undefined ? chunk : [...chunk, ...Array.from({ length: CHUNK - chunk.length }, () => last)];
    out.push(...(yield* totals(padded)).slice(0, chunk.length));
  }
  return out;
}
