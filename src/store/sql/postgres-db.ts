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
import { driveAsync, type Op, type Plan, type SqlDb, type SqlValue } from './sql-plan.js';
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

/** The result of a message's last statement (pg answers a message of several with an array). */
function lastResult(res: pg.QueryResult | pg.QueryResult[]): { rows: unknown[]; count: number } {
  const r = Array.isArray(res) ? res[res.length - 1] : res;
  return { rows: (r?.rows ?? []) as unknown[], count: r?.rowCount ?? 0 };
}

/** Statements PREPAREd on each connection (inline); a new connection is a new client. */
const PREPARED = new WeakMap<pg.ClientBase, Set<string>>();

/** First key of the two-int advisory locks plans take ("fgw2"); the second is the lock name's hash. */
const PLAN_LOCK_CLASS = 0x66677732;

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

  async transaction<T>(plan: Plan<T>, flush?: (result: T) => Plan<unknown> | null): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A checked-out client has no 'error' listener (pg-pool removes its own), so a connection lost
    // between two statements (database restarted) would be an uncaught exception and kill the
    // process. Record it instead: the next statement fails and release(broken) discards the client.
    const onError = (err: Error) => (broken = err);
    client.on('error', onError);
    try {
      // LOCAL: the setting ends with the transaction.
      return await this.drive(client, flush ? 'BEGIN; SET LOCAL synchronous_commit TO off' : 'BEGIN', plan, flush);
    } catch (err) {
      if (isStoreUnavailable(err)) {
        // Lost or timed out: a ROLLBACK would wait out another timeout behind the stuck statement.
        // Discarding the connection ends the transaction on the server just the same.
        broken = err instanceof Error ? err : new Error(String(err));
      } else {
        // A failed ROLLBACK means a broken connection: release(broken) then discards it.
        await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
      }
      throw err;
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
   * a final statement (sql-plan.ts finalQuery), so the rows it locks are released at once; the
   * flush plan's first statement with the COMMIT. The COMMIT ends the transaction (and its SET
   * LOCAL) before that write runs, so the write is its own implicit transaction with a normal,
   * flushing commit, exactly as if sent after it. A failed statement makes the server skip the
   * rest of its message: nothing after it runs, the COMMIT included, and the catch in
   * transaction() rolls back. Statements in between run as named statements, one round trip each.
   */
  private async drive<T>(client: pg.PoolClient, begin: string, plan: Plan<T>, flush: ((result: T) => Plan<unknown> | null) | undefined): Promise<T> {
    let pending: string | null = begin;
    let step = plan.next();
    for (;;) {
      if (step.done === true) {
        await this.commit(client, [...(pending === null ? [] : [pending])], flush?.(step.value) ?? null);
        return step.value;
      }
      const op = step.value;
      const inlined = op.kind === 'query' && (pending !== null || op.final === true) ? await this.inline(client, op) : undefined;
      if (op.kind === 'query' && op.final === true) {
        const end = plan.next(inlined === undefined ? await this.execAfter(client, pending, op) : undefined);
        if (end.done !== true) throw new Error('a plan went on after its final statement');
        await this.commit(client, inlined === undefined ? [] : [...(pending === null ? [] : [pending]), inlined], flush?.(end.value) ?? null);
        return end.value;
      }
      if (pending !== null && inlined !== undefined) {
        step = plan.next(lastResult(await client.query(`${pending}; ${inlined}`)));
      } else {
        if (pending !== null) await client.query(pending);
        step = plan.next(await this.exec(client, op));
      }
      pending = null;
    }
  }

  /** `before`; COMMIT; the flush plan's first statement — one message — then the rest of the flush plan. */
  private async commit(client: pg.PoolClient, before: string[], flushing: Plan<unknown> | null): Promise<void> {
    const step = flushing?.next();
    const first = step !== undefined && step.done !== true ? step.value : undefined;
    const inlined = first?.kind === 'query' ? await this.inline(client, first) : undefined;
    const res = await client.query([...before, 'COMMIT', ...(inlined === undefined ? [] : [inlined])].join('; '));
    if (flushing === null || first === undefined) return;
    const result = inlined === undefined ? await this.exec(client, first) : lastResult(res);
    for (let next = flushing.next(result); next.done !== true; ) next = flushing.next(await this.exec(client, next.value));
  }

  /** `pending` (BEGIN) on its own, then `op` as a parameterised statement. */
  private async execAfter(client: pg.PoolClient, pending: string | null, op: Op): Promise<unknown> {
    if (pending !== null) await client.query(pending);
    return this.exec(client, op);
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
  private async inline(client: pg.PoolClient, op: Extract<Op, { kind: 'query' }>): Promise<string | undefined> {
    const c = this.compile(op.stmt.text, op.stmt.prepared);
    if (c.name === undefined) return undefined;
    const values = c.names.map((n) => literal(op.params[n]));
    const name = `fgwx${c.name.slice('fgw'.length)}`;
    let prepared = PREPARED.get(client);
    if (prepared === undefined) PREPARED.set(client, (prepared = new Set()));
    if (!prepared.has(name)) {
      // Its own message: a PREPARE in a message that fails later would leave this set unsure.
      await client.query(`PREPARE ${name} AS ${c.text}`);
      prepared.add(name);
    }
    return values.length === 0 ? `EXECUTE ${name}` : `EXECUTE ${name}(${values.join(', ')})`;
  }

  private async exec(db: PgPool | pg.PoolClient, op: Op): Promise<unknown> {
    if (op.kind === 'lock') {
      // Per schema, so gateways sharing a database but not a schema never wait on each other.
      await db.query({
        name: 'fgw_plan_lock',
        text: 'SELECT pg_advisory_xact_lock($1::int, hashtext($2 || current_schema()))',
        values: [PLAN_LOCK_CLASS, op.name],
      });
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
