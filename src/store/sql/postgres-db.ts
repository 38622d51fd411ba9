/**
 * SqlDb on a PostgreSQL pool (postgres-pool.ts). Fixed statements are planned once per pooled
 * connection: as named statements, or PREPAREd where a transaction sends several statements in
 * one message (drive: each statement is a socket write and an event-loop turn for the gateway,
 * and on contended rows a round trip their locks are held for). A transaction runs on one connection under
 * READ COMMITTED: each conditional write re-evaluates its WHERE on the latest committed row version
 * after taking the row lock, so a budget check and its charge are one atomic step.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { isStoreUnavailable } from '../../errors.js';
import { driveAsync, GUARD_SQLSTATE, GuardFailed, type LockOp, type Op, type Plan, type QueryOp, type SqlDb, type SqlValue } from './sql-plan.js';
import { postgresText } from './sql-text.js';
import type { PgPool } from './postgres-pool.js';

interface Compiled {
  text: string;
  names: string[];
  /** The named statement, or undefined for a text built per call. */
  name: string | undefined;
}

/** A parameter as a Postgres literal: the text pg would send for it, quoted (untyped), or NULL. */
function literal(value: SqlValue | undefined): string {
  if (value === undefined) throw new Error('a statement parameter is missing');
  if (value === null) return 'NULL';
  if (Buffer.isBuffer(value)) return `'\\x${value.toString('hex')}'`;
  return pg.escapeLiteral(String(value));
}

/** The results of a message's statements, one each, in order (pg answers one statement without an array). */
function resultsOf(res: pg.QueryResult | pg.QueryResult[]): { rows: unknown[]; count: number }[] {
  return (Array.isArray(res) ? res : [res]).map((r) => ({ rows: (r?.rows ?? []) as unknown[], count: r?.rowCount ?? 0 }));
}

/** The result of a message's last statement. */
function lastResult(res: pg.QueryResult | pg.QueryResult[]): { rows: unknown[]; count: number } {
  const all = resultsOf(res);
  return all[all.length - 1] ?? { rows: [], count: 0 };
}

/** What a transaction runs after its COMMIT: a plan of its own, or one chosen from the result. */
type Flush<T> = Plan<unknown> | ((result: T) => Plan<unknown> | null);

/** Statements PREPAREd on each connection (inline); a new connection is a new client. */
const PREPARED = new WeakMap<pg.ClientBase, Set<string>>();

/** First key of the two-int advisory locks plans take ("fgw2"); the second is the lock name's hash. */
const PLAN_LOCK_CLASS = 0x66677732;

/**
 * The advisory lock a plan's `lock` takes, as one statement (its name is a constant of the code,
 * quoted all the same). Per schema, so gateways sharing a database but not a schema never wait on
 * each other.
 */
function lockText(name: string): string {
  return `SELECT pg_advisory_xact_lock(${PLAN_LOCK_CLASS}, hashtext(${pg.escapeLiteral(name)} || current_schema()))`;
}

export class PostgresDb implements SqlDb {
  readonly dialect = 'postgres';
  private readonly compiled = new Map<string, Compiled>();

  constructor(readonly pool: PgPool) {}

  run<T>(plan: Plan<T>): Promise<T> {
    return driveAsync(plan, (op) => this.exec(this.pool, op));
  }

  write<T>(plan: Plan<T>): Promise<T> {
    return this.run(plan);
  }

  async transaction<T>(plan: Plan<T>, flush?: Flush<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A checked-out client has no 'error' listener (pg-pool removes its own), so a connection lost
    // between two statements (database restarted) would be an uncaught exception and kill the
    // process. Record it instead: the next statement fails and release(broken) discards the client.
    const onError = (err: Error) => (broken = err);
    client.on('error', onError);
    const tx = { begun: false };
    try {
      return await this.drive(client, tx, plan, flush);
    } catch (err) {
      if (!tx.begun) {
        // No BEGIN went out (a PREPARE failed before it): nothing is open on the server, and a
        // ROLLBACK would only log a warning there. A PREPARE that timed out may still be running:
        // the connection goes, as a lost one does (its statements would be unknown to PREPARED).
        if (isStoreUnavailable(err)) broken = err instanceof Error ? err : new Error(String(err));
      } else if (isStoreUnavailable(err)) {
        // Lost or timed out: a ROLLBACK would wait out another timeout behind the stuck statement.
        // Discarding the connection ends the transaction on the server just the same.
        broken = err instanceof Error ? err : new Error(String(err));
      } else {
        // A failed ROLLBACK means a broken connection: release(broken) then discards it.
        await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
      }
      throw err instanceof Error && 'code' in err && err.code === GUARD_SQLSTATE ? new GuardFailed() : err;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  isUniqueViolation(err: unknown): boolean {
    return err instanceof Error && 'code' in err && err.code === '23505';
  }

  isForeignKeyViolation(err: unknown): boolean {
    return err instanceof Error && 'code' in err && err.code === '23503';
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  /**
   * Runs a transaction plan in as few round trips as the plan allows, with the simple query
   * protocol's several statements per message: BEGIN goes with the first statement; COMMIT with
   * a final statement or batch (sql-plan.ts), so the rows it locks are released at once; the
   * flush plan's first statement with the COMMIT (when the flush is chosen from the result of a
   * final batch, it follows in a message of its own). The COMMIT ends the transaction (and its SET
   * LOCAL) before that write runs, so the write is its own implicit transaction with a normal,
   * flushing commit, exactly as if sent after it. A failed statement makes the server skip the
   * rest of its message: nothing after it runs, the COMMIT included, and the catch in
   * transaction() rolls back. Statements in between run as named statements, one round trip each.
   */
  private async drive<T>(client: pg.PoolClient, tx: { begun: boolean }, plan: Plan<T>, flush: Flush<T> | undefined): Promise<T> {
    // LOCAL: the setting ends with the transaction.
    const local = flush ? ['SET LOCAL synchronous_commit TO off'] : [];
    let pending = ['BEGIN', ...local];
    const send = (texts: string[]) => {
      if (texts[0] === 'BEGIN') tx.begun = true;
      return client.query(texts.join('; '));
    };
    const flushOf = (result: T): Plan<unknown> | null => (flush === undefined ? null : typeof flush === 'function' ? flush(result) : flush);
    let step = plan.next();
    for (;;) {
      if (step.done === true) {
        // Nothing was sent (a plan of no statements): no transaction to end.
        if (pending[0] !== 'BEGIN') await this.commit(client, pending, flushOf(step.value), send);
        return step.value;
      }
      const op = step.value;
      if (op.kind === 'batch') {
        const texts = await this.inlineAll(client, op.ops);
        if (texts === undefined) {
          // A statement built per call is never inlined: each goes as its own message.
          if (pending.length > 0) await send(pending);
          pending = [];
          const results: unknown[] = [];
          for (const each of op.ops) results.push(await this.exec(client, each));
          step = plan.next(results);
          if (op.final) return this.ended(client, plan, step, flushOf);
          continue;
        }
        // BEGIN stays explicit: in a message without it the server would run the statements as one
        // implicit transaction, but the COMMIT that must end it before the flush would then log a
        // warning ("no transaction in progress") in the server's log on every call.
        const sent = [...pending, ...texts];
        const all = op.final ? await this.commit(client, sent, typeof flush === 'function' ? null : (flush ?? null), send) : resultsOf(await send(sent));
        step = plan.next(all.slice(pending.length, pending.length + texts.length).map((r, i) => (op.ops[i]?.kind === 'lock' ? undefined : r)));
        pending = [];
        if (!op.final) continue;
        if (step.done !== true) throw new Error('a plan went on after its final batch');
        // The COMMIT went with the batch; a flush chosen from the result follows on its own.
        const chosen = typeof flush === 'function' ? flush(step.value) : null;
        if (chosen !== null) await driveAsync(chosen, (o) => this.exec(client, o));
        return step.value;
      }
      const inlined = op.kind === 'query' && (pending.length > 0 || op.final === true) ? await this.inline(client, op) : undefined;
      if (op.kind === 'query' && op.final === true) {
        const end = plan.next(inlined === undefined ? await this.execAfter(send, client, pending, op) : undefined);
        if (end.done !== true) throw new Error('a plan went on after its final statement');
        await this.commit(client, inlined === undefined ? [] : [...pending, inlined], flushOf(end.value), send);
        return end.value;
      }
      if (pending.length > 0 && inlined !== undefined) {
        step = plan.next(lastResult(await send([...pending, inlined])));
      } else {
        if (pending.length > 0) await send(pending);
        step = plan.next(await this.exec(client, op));
      }
      pending = [];
    }
  }

  /** After a final batch run without inlining: the plan has returned; COMMIT, then the flush. */
  private async ended<T>(client: pg.PoolClient, plan: Plan<T>, step: IteratorResult<unknown, T>, flushOf: (result: T) => Plan<unknown> | null): Promise<T> {
    if (step.done !== true) {
      plan.return(undefined as T);
      throw new Error('a plan went on after its final batch');
    }
    await this.commit(client, [], flushOf(step.value));
    return step.value;
  }

  /**
   * `before`; COMMIT; the flush plan's first statement — one message — then the rest of the flush
   * plan; returns the message's results, one per statement.
   */
  private async commit(
    client: pg.PoolClient,
    before: string[],
    flushing: Plan<unknown> | null,
    send: (texts: string[]) => Promise<pg.QueryResult | pg.QueryResult[]> = (texts) => client.query(texts.join('; ')),
  ): Promise<{ rows: unknown[]; count: number }[]> {
    const step = flushing?.next();
    const first = step !== undefined && step.done !== true ? step.value : undefined;
    const inlined = first?.kind === 'query' ? await this.inline(client, first) : undefined;
    const res = resultsOf(await send([...before, 'COMMIT', ...(inlined === undefined ? [] : [inlined])]));
    if (flushing === null || first === undefined) return res;
    // The rest of the flush plan, statement by statement.
    let result = inlined === undefined ? await this.execAny(client, first) : res[res.length - 1];
    for (let next = flushing.next(result); next.done !== true; next = flushing.next(result)) result = await this.execAny(client, next.value);
    return res;
  }

  private async execAny(client: pg.PoolClient, o: Op): Promise<unknown> {
    if (o.kind !== 'batch') return this.exec(client, o);
    const results: unknown[] = [];
    for (const each of o.ops) results.push(await this.exec(client, each));
    return results;
  }

  /** `pending` (BEGIN) on its own, then `op` as a parameterised statement. */
  private async execAfter(send: (texts: string[]) => Promise<unknown>, client: pg.PoolClient, pending: string[], op: QueryOp): Promise<unknown> {
    if (pending.length > 0) await send(pending);
    return this.exec(client, op);
  }

  /** Every op of a batch as text for one message, or undefined if one is a statement built per call. */
  private async inlineAll(client: pg.PoolClient, ops: (QueryOp | LockOp)[]): Promise<string[] | undefined> {
    const texts: string[] = [];
    for (const o of ops) {
      const text = o.kind === 'lock' ? lockText(o.name) : await this.inline(client, o);
      if (text === undefined) return undefined;
      texts.push(text);
    }
    return texts;
  }

  /**
   * A fixed statement for a message of several (simple query protocol, which takes no
   * parameters): EXECUTE of a statement prepared once per connection with PREPARE (planned once,
   * as a named statement is), the values as quoted literals, which the server types from the
   * statement just as it types pg's parameters (pg sends them as untyped text). PREPARE names
   * (`fgwx_`) never clash with the protocol-level named statements. A statement built per call
   * (dynamicSql) is not inlined (undefined): it goes as its own parameterised message, so no value
   * is ever spliced into statement text.
   */
  private async inline(client: pg.PoolClient, op: QueryOp): Promise<string | undefined> {
    const c = this.compile(op.stmt.text, op.stmt.prepared);
    if (c.name === undefined) return undefined;
    const values = c.names.map((n) => literal(op.params[n]));
    const name = `fgwx${c.name.slice('fgw'.length)}`;
    let prepared = PREPARED.get(client);
    if (prepared === undefined) PREPARED.set(client, (prepared = new Set()));
    if (!prepared.has(name)) {
      // Its own message: a PREPARE in a message that fails later would leave this set unsure.
      // Already there (42P05: a PREPARE this set lost track of, e.g. one that ran on after a client
      // timeout): the name is the text's hash, so it is this statement. The error still fails
      // this call (inside a transaction it has aborted it), but the connection is usable again.
      await client.query(`PREPARE ${name} AS ${c.text}`).catch((err: unknown) => {
        if (err instanceof Error && 'code' in err && err.code === '42P05') prepared.add(name);
        throw err;
      });
      prepared.add(name);
    }
    return values.length === 0 ? `EXECUTE ${name}` : `EXECUTE ${name}(${values.join(', ')})`;
  }

  private async exec(db: PgPool | pg.PoolClient, op: QueryOp | LockOp): Promise<unknown> {
    if (op.kind === 'lock') {
      await db.query(lockText(op.name));
      return undefined;
    }
    const c = this.compile(op.stmt.text, op.stmt.prepared);
    const values: SqlValue[] = c.names.map((n) => {
      const value = op.params[n];
      if (value === undefined) throw new Error(`statement parameter @${n} is missing`);
      return value;
    });
    const res = await db.query({ name: c.name, text: c.text, values });
    return { rows: res.rows as unknown[], count: res.rowCount ?? 0 };
  }

  private compile(text: string, prepared: boolean): Compiled {
    const hit = this.compiled.get(text);
    if (hit) return hit;
    const { text: out, names } = postgresText(text);
    const compiled = { text: out, names, name: prepared ? `fgw_${createHash('sha1').update(out).digest('hex').slice(0, 20)}` : undefined };
    if (prepared) this.compiled.set(text, compiled);
    return compiled;
  }
}
