/**
 * SqlDb on a PostgreSQL pool (postgres-pool.ts). Fixed statements run as named statements, so
 * each pooled connection parses and plans them once. A transaction runs on one connection under
 * READ COMMITTED: each conditional write re-evaluates its WHERE on the latest committed row version
 * after taking the row lock, so a budget check and its charge are one atomic step.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
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
      // One round trip for both (simple query protocol); LOCAL: the setting ends with the transaction.
      await client.query(flush ? 'BEGIN; SET LOCAL synchronous_commit TO off' : 'BEGIN');
      const result = await driveAsync(plan, (op) => this.exec(client, op));
      await client.query('COMMIT');
      const flushing = flush?.(result);
      if (flushing) await driveAsync(flushing, (op) => this.exec(client, op));
      return result;
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
