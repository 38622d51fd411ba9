/**
 * Postgres-specific behaviour the contract suites cannot see: concurrent start-up migrations,
 * type parsing of money and time, connection options. Needs TEST_DATABASE_URL.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgres, type PgPool } from '../../src/store/sql/postgres-pool.js';
import { MIGRATIONS } from '../../src/store/sql/migrations.js';
import { PostgresDb } from '../../src/store/sql/postgres-db.js';
import { createHash } from 'node:crypto';
import { batch, dynamicSql, finalQuery, first, GuardFailed, op, query, sql, type Plan } from '../../src/store/sql/sql-plan.js';
import { postgresText } from '../../src/store/sql/sql-text.js';
import { createSchema, dropSchema, postgresSkipReason, postgresUrl } from './store-backends.js';

const suite = postgresSkipReason === undefined ? describe : describe.skip;
const title = postgresSkipReason === undefined ? 'Postgres database' : `Postgres database (skipped: ${postgresSkipReason})`;

suite(title, () => {
  const pools: PgPool[] = [];
  const schemas: string[] = [];

  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.end()));
    await Promise.all(schemas.splice(0).map(dropSchema));
  });

  async function schema(): Promise<string> {
    const name = await createSchema();
    schemas.push(name);
    return name;
  }

  async function open(name: string, url = postgresUrl(), max = 2): Promise<PgPool> {
    const pool = await openPostgres(url, { schema: name, max });
    pools.push(pool);
    return pool;
  }

  it('sends values inlined into a transaction\'s messages exactly as bound parameters would (quotes, backslashes, bytes, nulls)', async () => {
    const pool = await open(await schema());
    await pool.query('CREATE TABLE inline_test (id INT PRIMARY KEY, t TEXT, b BYTEA, n BIGINT, f BOOLEAN)');
    const db = new PostgresDb(pool);
    const tricky = ["it's", 'back\\slash \\x41', "'); DROP TABLE inline_test; --", 'ünï\u00a0cødé $1 $$ @x', ''];
    const insert = sql('INSERT INTO inline_test (id, t, b, n, f) VALUES (@id, @t, @b, @n::bigint, @f)');
    const read = sql('SELECT t, b, n::text AS n, f FROM inline_test WHERE id = @id');
    // Each alone in its transaction: the statement travels inlined, with BEGIN and COMMIT.
    for (const [i, t] of tricky.entries()) await db.transaction(finalQuery(insert, { id: i, t, b: Buffer.from([0, 39, 92, 255, i]), n: 2 ** 53 - 1 - i, f: i % 2 === 0 }));
    function* plan(): Plan<void> {
      // A statement built per call is never inlined; the final one goes with COMMIT, the flush after it.
      yield* query(dynamicSql('UPDATE inline_test SET t = @t WHERE id = @id'), { id: 99, t: "not ' spliced" });
      yield* finalQuery(insert, { id: 100, t: null as unknown as string, b: null as unknown as Buffer, n: 0, f: false });
    }
    await db.transaction(plan(), () => query(insert, { id: 101, t: "flush's", b: Buffer.alloc(0), n: 1, f: true }));
    for (const [i, t] of tricky.entries()) {
      const row = await db.run(first<{ t: string; b: Buffer; n: string; f: boolean }>(read, { id: i }));
      expect(row).toEqual({ t, b: Buffer.from([0, 39, 92, 255, i]), n: String(2 ** 53 - 1 - i), f: i % 2 === 0 });
    }
    expect(await db.run(first(read, { id: 100 }))).toEqual({ t: null, b: null, n: '0', f: false });
    expect(await db.run(first(read, { id: 101 }))).toEqual({ t: "flush's", b: Buffer.alloc(0), n: '1', f: true });
    expect((await pool.query('SELECT COUNT(*)::int AS n FROM inline_test')).rows[0]).toEqual({ n: 7 });
  });

  it('runs a final batch as one message with its COMMIT, and a failed guard rolls the whole batch back', async () => {
    const pool = await open(await schema(), postgresUrl(), 1);
    await pool.query('CREATE TABLE batch_test (id INT PRIMARY KEY, n INT NOT NULL)');
    const db = new PostgresDb(pool);
    const insert = sql('INSERT INTO batch_test (id, n) VALUES (@id, @n)');
    const guard = sql('SELECT fgw_guard((SELECT SUM(n) FROM batch_test) <= @max) AS ok');
    const messages: string[] = [];
    const [client] = [await pool.connect()];
    const original = client.query.bind(client);
    (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
      messages.push(typeof a[0] === 'string' ? a[0] : String((a[0] as { text?: string }).text));
      return (original as (...b: unknown[]) => unknown)(...a);
    };
    client.release();
    const plan = (id: number, max: number) => batch([op(insert, { id, n: 5 }), op(guard, { max })], true);
    await db.transaction(plan(1, 10));
    messages.length = 0;
    expect((await db.transaction(plan(2, 10)))[1]?.rows).toEqual([{ ok: true }]);
    expect(messages).toEqual([expect.stringMatching(/^BEGIN; EXECUTE fgwx_\w+\('2', '5'\); EXECUTE fgwx_\w+\('10'\); COMMIT$/)]);
    await expect(db.transaction(plan(3, 10))).rejects.toBeInstanceOf(GuardFailed);
    expect((await pool.query('SELECT id FROM batch_test ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('gets over a statement PREPAREd on a connection without its knowing: one call fails, the next works', async () => {
    const pool = await open(await schema(), postgresUrl(), 1);
    await pool.query('CREATE TABLE prep_test (id INT PRIMARY KEY)');
    const db = new PostgresDb(pool);
    const insert = sql('INSERT INTO prep_test (id) VALUES (@id)');
    // As a PREPARE that ran on after a client-side timeout would have left it: on the server, not in the set.
    const { text } = postgresText(insert.text);
    const name = `fgwx_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    await pool.query(`PREPARE ${name} AS ${text}`);
    await expect(db.transaction(finalQuery(insert, { id: 1 }))).rejects.toMatchObject({ code: '42P05' });
    await db.transaction(finalQuery(insert, { id: 2 }));
    expect((await pool.query('SELECT id FROM prep_test')).rows).toEqual([{ id: 2 }]);
  });

  it('lets several pools migrate one schema at the same time, applying each migration once', async () => {
    const name = await schema();
    const opened = await Promise.allSettled([open(name), open(name), open(name), open(name)]);
    expect(opened.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    const pool = await open(name);
    const { rows } = await pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    const tables = await pool.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [name],
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual([
      'admin_audit',
      'admin_credentials',
      'admin_sessions',
      'alert_claims',
      'budget_counters',
      'console_sign_in_codes',
      'fal_prices',
      'idempotency_responses',
      'job_leases',
      'keys',
      'ledger_entries',
      'reconciliation_buckets',
      'request_owners',
      'schema_migrations',
      'teams',
      'webhook_relays',
      'webhook_signing_keys',
    ]);
  });

  it('returns BIGINT as a JS number and refuses one beyond 2^53 rather than rounding it', async () => {
    const pool = await open(await schema());
    const safe = await pool.query<{ n: unknown }>('SELECT $1::bigint AS n', [String(Number.MAX_SAFE_INTEGER)]);
    expect(safe.rows[0]?.n).toBe(Number.MAX_SAFE_INTEGER);
    await expect(pool.query('SELECT $1::bigint AS n', ['9007199254740993'])).rejects.toThrow(RangeError);
  });

  it('returns TIMESTAMPTZ in the ISO-8601 UTC form the other adapters store, whatever the session time zone', async () => {
    const pool = await open(await schema());
    await pool.query("SET TIME ZONE 'America/New_York'");
    const { rows } = await pool.query<{ t: unknown }>('SELECT $1::timestamptz AS t', ['2026-01-01T00:00:00.000Z']);
    expect(rows[0]?.t).toBe('2026-01-01T00:00:00.000Z');
  });

  it("keeps the URL's own connection options alongside the schema's search_path", async () => {
    const name = await schema();
    const url = new URL(postgresUrl());
    url.searchParams.set('options', '-c statement_timeout=4321');
    const pool = await open(name, url.toString());
    const { rows } = await pool.query<{ path: string; timeout: string }>(
      "SELECT current_setting('search_path') AS path, current_setting('statement_timeout') AS timeout",
    );
    expect(rows[0]).toEqual({ path: name, timeout: '4321ms' });
  });

  it('fails with a clear message when the schema does not exist', async () => {
    await expect(openPostgres(postgresUrl(), { schema: 'fgw_test_missing_schema' })).rejects.toThrow(/schema "fgw_test_missing_schema" does not exist/);
  });

  it('refuses a schema name that is not a plain lowercase identifier', async () => {
    await expect(openPostgres(postgresUrl(), { schema: 'public -c role=x' })).rejects.toThrow(/invalid Postgres schema name/);
  });
});
