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

export type Op =
  /**
   * `final`: the plan's last statement, whose result the plan does not read (finalQuery): a
   * transaction may send its COMMIT in the same message (Postgres), so the rows it locks are
   * released without another round trip.
   */
  | { kind: 'query'; stmt: Statement; params: Params; final?: true }
  /** A transaction-scoped lock on a name: Postgres advisory lock; SQLite already holds the write lock. */
  | { kind: 'lock'; name: string };

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
   * transaction wrote nothing). The promise resolves
   * only then, so the guarantee to the caller is unchanged. SQLite ignores it (its WAL commits
   * never wait for a flush: synchronous=NORMAL).
   */
  transaction<T>(plan: Plan<T>, flush?: (result: T) => Plan<unknown> | null): Promise<T>;
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
export function drive<T>(plan: Plan<T>, exec: (op: Op) => unknown): T {
  let step = plan.next();
  while (step.done !== true) step = plan.next(exec(step.value));
  return step.value;
}

/** Drives a plan with an asynchronous `exec` (Postgres). */
export async function driveAsync<T>(plan: Plan<T>, exec: (op: Op) => Promise<unknown>): Promise<T> {
  let step = plan.next();
  while (step.done !== true) step = plan.next(await exec(step.value));
  return step.value;
}
