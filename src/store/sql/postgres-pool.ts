/**
 * The PostgreSQL pool for several gateway instances sharing one database (docs/design.md §4), and its
 * schema upgrade. Migrations run under a transaction-scoped advisory lock, so instances that start
 * together apply each migration exactly once and never race on DDL.
 */
import pg from 'pg';
import { MIGRATIONS } from './migrations.js';
import { postgresMigration } from './sql-text.js';

export type PgPool = pg.Pool;

export interface PostgresOptions {
  /**
   * Schema holding the gateway's tables (a lowercase SQL identifier), put first on every
   * connection's search_path. Tests use a fresh schema each; production uses `public`.
   */
  schema?: string;
  /** Pool size per process. */
  max?: number;
  /**
   * Called when an idle pooled connection fails (server restart, network cut). pg emits these as
   * 'error' events, which would crash the process if nobody listened; the next query reconnects.
   */
  onIdleError?: (err: Error) => void;
  /** Time to open a connection (TCP + startup + auth), ms. Default 3 s. */
  connectTimeoutMs?: number;
  /**
   * Longest statement, ms (default 5 s; ledger statements take milliseconds): enforced by the server (statement_timeout) and, 2 s
   * later, by the client (query_timeout), because a frozen server enforces nothing.
   */
  statementTimeoutMs?: number;
  /** A session idle inside a transaction this long is ended by the server (its locks freed), ms. Default 30 s. */
  idleInTransactionTimeoutMs?: number;
}

/** Client-side bound on one migration statement (pg has no "no timeout" per query). */
const MIGRATION_TIMEOUT_MS = 3_600_000;

/** Client-side margin over statement_timeout, so the server's own error normally wins. */
const CLIENT_TIMEOUT_MARGIN_MS = 2_000;

/** First key of the two-int advisory lock ("fgw1"); the second is the schema's hash. */
const MIGRATION_LOCK_CLASS = 0x66677731;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<PgPool> {
  const schema = options.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid Postgres schema name: ${schema}`);
  const statementMs = options.statementTimeoutMs ?? 5_000;
  const pool = new pg.Pool({
    ...connection(url, schema, `-c statement_timeout=${statementMs} -c idle_in_transaction_session_timeout=${options.idleInTransactionTimeoutMs ?? 30_000}`),
    max: options.max ?? 10,
    types: gatewayTypes(),
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3_000,
    query_timeout: statementMs + CLIENT_TIMEOUT_MARGIN_MS,
    // A dead peer (cable cut, host gone) is noticed by TCP instead of never.
    keepAlive: true,
  });
  pool.on('error', options.onIdleError ?? (() => undefined));
  try {
    await migrate(pool, schema);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return pool;
}

/**
 * search_path and the timeouts go in the startup `options`, so every pooled connection has them
 * before its first query. pg lets a URL's own `options` replace the config's, so they are merged
 * here instead: defaults first, the URL's own next (a later -c wins), search_path last.
 */
function connection(url: string, schema: string, defaults: string): { connectionString: string; options: string } {
  const searchPath = `-c search_path=${schema}`;
  if (!url.includes('options=')) return { connectionString: url, options: `${defaults} ${searchPath}` };
  const parsed = new URL(url);
  const own = parsed.searchParams.get('options') ?? '';
  parsed.searchParams.delete('options');
  return { connectionString: parsed.toString(), options: `${defaults} ${own} ${searchPath}`.replace(/\s+/g, ' ').trim() };
}

/**
 * Type parsers for this pool only (the global pg.types stay untouched). BIGINT micro-USD amounts
 * come back as numbers, refusing values past 2^53 rather than rounding money; TIMESTAMPTZ comes
 * back in the same ISO-8601 form (`2026-01-01T00:00:00.000Z`) SQLite stores.
 */
function gatewayTypes(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, 'text', parseSafeInteger);
  const parseTimestamp = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text') as (text: string) => unknown;
  types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text', (text: string) => {
    const value = parseTimestamp(text);
    if (!(value instanceof Date)) throw new RangeError(`unsupported timestamp ${text}`);
    return value.toISOString();
  });
  return types;
}

function parseSafeInteger(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`integer ${text} is beyond 2^53`);
  return n;
}

/** A query with the migration bound instead of the pool's query_timeout (pg reads it per query; its typings omit it). */
function unbounded(text: string, values?: unknown[]): pg.QueryConfig {
  return { text, values, query_timeout: MIGRATION_TIMEOUT_MS } as pg.QueryConfig;
}

async function migrate(pool: PgPool, schema: string): Promise<void> {
  const client = await pool.connect();
  let failure: Error | undefined;
  // See inTransaction: a connection lost between statements must not be an uncaught exception.
  const onError = (err: Error) => (failure = err);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    // Migrations (an index on a large ledger) and waiting for another instance's may take longer
    // than any request should: the statement bounds are lifted for this transaction only.
    await client.query('SET LOCAL statement_timeout = 0');
    await client.query(unbounded('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]));
    const current = await client.query<{ schema: string | null }>('SELECT current_schema() AS schema');
    if (current.rows[0]?.schema !== schema) throw new Error(`Postgres schema "${schema}" does not exist`);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)');
    const done = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(done.rows.map((r) => r.version));
    for (const [index, ddl] of MIGRATIONS.entries()) {
      const version = index + 1;
      if (applied.has(version)) continue;
      await client.query(unbounded(postgresMigration(ddl)));
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
    }
    await client.query('COMMIT');
  } catch (err) {
    // A failed ROLLBACK means a broken connection: release(failure) then discards it.
    await client.query('ROLLBACK').catch((rollbackErr: Error) => (failure = rollbackErr));
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(failure);
  }
}
