/** One transaction on one pooled connection: the unit every multi-statement write runs in. */
import type pg from 'pg';
import { isStoreUnavailable } from '../../errors.js';
import type { PgPool } from './postgres-database.js';

/**
 * BEGIN, run `body`, COMMIT; on any throw ROLLBACK and rethrow. READ COMMITTED (the default) is
 * enough for the ledger: each conditional UPDATE re-evaluates its WHERE on the latest committed
 * row version after taking the row lock, so a budget check and its charge are one atomic step.
 */
export async function inTransaction<T>(pool: PgPool, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A checked-out client has no 'error' listener (pg-pool removes its own), so a connection lost
  // between two statements (database restarted) would be an uncaught exception and kill the
  // process. Record it instead: the next statement fails and release(broken) discards the client.
  const onError = (err: Error) => (broken = err);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await body(client);
    await client.query('COMMIT');
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

/** A Postgres unique violation on the named constraint or index. */
export function isUniqueViolation(err: unknown, constraint: string): boolean {
  return err instanceof Error && 'code' in err && err.code === '23505' && 'constraint' in err && err.constraint === constraint;
}

/** A Postgres foreign-key violation. */
export function isForeignKeyViolation(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === '23503';
}
