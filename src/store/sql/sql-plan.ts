/**
 * The one query layer under the SQLite and Postgres stores. A store method is written once, as a
 * plan: a generator that yields statements and gets their results back. Each database runs plans
 * its own way (sqlite-db.ts, postgres-db.ts): SQLite synchronously, a write transaction inside a
 * BEGIN IMMEDIATE it shares with the other writes of the same event-loop turn (group commit; each
 * plan in its own savepoint, nothing interleaves with it); Postgres asynchronously, on one pooled
 * connection between BEGIN and COMMIT.
 *
 * Ordering on SQLite: `run` executes at once, `transaction` and `write` at the end of the turn.
 * A read sees a write only once the write's promise has resolved (await it first), and a write
 * made with `run` may commit before writes queued earlier in the same turn.
 *
 * Statement text is written once in Postgres spelling with `@name` parameters; each database
 * compiles a text once (sql-text.ts) and keeps it prepared (better-sqlite3 statements, Postgres
 * named statements).
 */

export type SqlValue = string | number | boolean | null | Buffer;
export type Params = Readonly<Record<string, SqlValue>>;

export interface Statement {
  readonly text: string;
  /** False for text built per call (a key patch, a usage filter): not worth a named statement. */
  readonly prepared: boolean;
}

/** A fixed statement, prepared once per connection. */
export function sql(text: string): Statement {
  return { text, prepared: true };
}

/** A statement whose text depends on the call: run unnamed on Postgres. */
export function dynamicSql(text: string): Statement {
  return { text, prepared: false };
}

/**
 * `final`: the plan's last statement, whose result the plan does not read (finalQuery): a
 * transaction may send its COMMIT in the same message (Postgres), so the rows it locks are
 * released without another round trip.
 */
export type QueryOp = { kind: 'query'; stmt: Statement; params: Params; final?: true };
/** A transaction-scoped lock on a name: Postgres advisory lock; SQLite already holds the write lock. */
export type LockOp = { kind: 'lock'; name: string };

export type Op =
  | QueryOp
  | LockOp
  /**
   * Statements whose texts and values do not depend on each other's results, run in order and
   * answered together (batch): Postgres sends them in one message. `final`: the plan's last op;
   * a transaction's COMMIT goes in the same message, so nothing it locks is held for a round trip.
   * A statement that must stop the transaction when a condition is false calls `fgw_guard`.
   */
  | { kind: 'batch'; ops: (QueryOp | LockOp)[]; final: boolean };

export interface Result<R> {
  rows: R[];
  /** Rows returned, or rows changed by a statement that returns none. */
  count: number;
}

export type Plan<T> = Generator<Op, T, unknown>;

export function* query<R = Record<string, unknown>>(stmt: Statement, params: Params = {}): Plan<Result<R>> {
  return (yield { kind: 'query', stmt, params }) as Result<R>;
}

export function* first<R>(stmt: Statement, params: Params = {}): Plan<R | undefined> {
  return (yield* query<R>(stmt, params)).rows[0];
}

/** A plan's last statement (see Op `final`): the plan must return right after it. */
export function* finalQuery(stmt: Statement, params: Params = {}): Plan<void> {
  yield { kind: 'query', stmt, params, final: true };
}

export function* lock(name: string): Plan<void> {
  yield { kind: 'lock', name };
}

/** A query op for batch. */
export function op(stmt: Statement, params: Params = {}): QueryOp {
  return { kind: 'query', stmt, params };
}

/** Runs `ops` in order as one step of the plan; their results in order (a lock's is undefined). */
export function* batch(ops: (QueryOp | LockOp)[], final = false): Plan<(Result<Record<string, unknown>> | undefined)[]> {
  return (yield { kind: 'batch', ops, final }) as (Result<Record<string, unknown>> | undefined)[];
}

/**
 * `fgw_guard(condition)` in a statement: true when the condition is true, else the statement fails
 * and with it the transaction, which every SqlDb reports as GuardFailed. A function of each
 * database (Postgres: migration 20, in PL/pgSQL; SQLite: registered on the connection), so a
 * transaction sent in one message can check what its own writes did and still carry its COMMIT.
 */
export class GuardFailed extends Error {
  constructor() {
    super('a guarded statement found its condition false; the transaction was rolled back');
  }
}

/** The SQLSTATE fgw_guard raises on Postgres (a class of its own; migration 20). */
export const GUARD_SQLSTATE = 'FGW01';

export interface SqlDb {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs a plan with each statement committing on its own (reads, single-statement writes). */
  run<T>(plan: Plan<T>): Promise<T>;
  /**
   * Runs a plan in one write transaction: all its writes commit together, or none on a throw.
   * With `flush`, a transaction on rows many instances contend for (a key's budget counters) does
   * not hold their locks while the commit waits for the disk: Postgres commits it without waiting
   * for the WAL flush, then runs `flush` (a write of its own that contends for nothing) with a
   * normal commit, which flushes the WAL up to and past the transaction's (null: nothing to flush, the
   * transaction wrote nothing; a plan rather than a function: the same whatever the result, so it
   * can go with the COMMIT of a final batch). The promise resolves
   * only then, so the guarantee to the caller is unchanged. SQLite ignores it (its WAL commits
   * never wait for a flush: synchronous=NORMAL).
   */
  transaction<T>(plan: Plan<T>, flush?: Plan<unknown> | ((result: T) => Plan<unknown> | null)): Promise<T>;
  /**
   * Runs a plan of one write statement. Postgres runs it like `run` (each statement commits on its
   * own: a plan of several would not be atomic there); SQLite commits it with the other writes of
   * the same turn (sqlite-db.ts, group commit).
   */
  write<T>(plan: Plan<T>): Promise<T>;
  isUniqueViolation(err: unknown): boolean;
  isForeignKeyViolation(err: unknown): boolean;
  close(): Promise<void>;
}

/**
 * Drives a plan synchronously with `exec` (SQLite). A throw inside `exec` propagates out of the
 * plan, which never catches it: on Postgres a failed statement aborts the transaction, so plans
 * must not try to continue after one on either database.
 */
export function drive<T>(plan: Plan<T>, exec: (op: QueryOp | LockOp) => unknown): T {
  let step = plan.next();
  while (step.done !== true) {
    const o = step.value;
    step = plan.next(o.kind === 'batch' ? o.ops.map(exec) : exec(o));
  }
  return step.value;
}

/** Drives a plan with an asynchronous `exec` (Postgres). */
export async function driveAsync<T>(plan: Plan<T>, exec: (op: QueryOp | LockOp) => Promise<unknown>): Promise<T> {
  let step = plan.next();
  while (step.done !== true) {
    const o = step.value;
    if (o.kind !== 'batch') {
      step = plan.next(await exec(o));
      continue;
    }
    const results: unknown[] = [];
    for (const each of o.ops) results.push(await exec(each));
    step = plan.next(results);
  }
  return step.value;
}
