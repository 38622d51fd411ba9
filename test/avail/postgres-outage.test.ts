/**
 * A database that is stopped or frozen (issue #9 items 9e and 10): clients get a prompt 503
 * `service_unavailable` with Retry-After (nothing reserved, nothing sent to fal, so a retry is
 * safe), /readyz answers 503 instead of hanging, and the gateway recovers without a restart.
 * Runs against a throwaway PostgreSQL on its own port that the test stops, freezes and restarts.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openPostgres } from '../../src/store/sql/postgres-pool.js';
import { openStores } from '../../src/store/stores.js';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';
import { throwawayPostgres, type ThrowawayPostgres } from '../helpers/throwaway-servers.js';

const TIMEOUTS = { DATABASE_CONNECT_TIMEOUT_MS: '1000', DATABASE_STATEMENT_TIMEOUT_MS: '1000', DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '2000' };

describe('Postgres outage', () => {
  let db: ThrowawayPostgres;
  let gw: TestGateway;
  let key = '';

  beforeAll(async () => {
    db = await throwawayPostgres();
    const config = loadConfig({ FAL_KEY: 'x', DATABASE_URL: db.url, ...TIMEOUTS });
    const stores = await openStores(config.databaseUrl, { ...config.database });
    gw = await startTestGateway({ stores, env: TIMEOUTS });
    key = (await gw.createKey({ name: 'pg', rpm: 1000 })).key;
  }, 60_000);

  afterAll(async () => {
    db.freeze(false);
    await gw?.close();
    db.destroy();
  });

  // A client-side bound far above the configured timeouts: without them a frozen database holds
  // the request forever and this aborts.
  const get = (path: string, init: RequestInit = {}) => fetch(`${gw.url}${path}`, { ...init, signal: AbortSignal.timeout(20_000) });
  const run = () =>
    get('/fal-ai/stable-diffusion-v35-medium', { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) });

  const expectUnavailable = async (res: Response) => {
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await res.json()) as { error_type: string; detail: string };
    expect(body.error_type).toBe('service_unavailable');
    expect(body.detail).toMatch(/database is unavailable.*retrying is safe/);
  };

  it('applies the statement and idle-in-transaction timeouts on every connection', async () => {
    const pool = await openPostgres(db.url, { statementTimeoutMs: 1234, idleInTransactionTimeoutMs: 4321 });
    try {
      const st = await pool.query<{ statement_timeout: string }>('SHOW statement_timeout');
      const idle = await pool.query<{ idle_in_transaction_session_timeout: string }>('SHOW idle_in_transaction_session_timeout');
      expect(st.rows[0]?.statement_timeout).toBe('1234ms');
      expect(idle.rows[0]?.idle_in_transaction_session_timeout).toBe('4321ms');
    } finally {
      await pool.end();
    }
  });

  it('lets start-up migrations wait for another instance longer than the statement timeout', async () => {
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      // Another instance migrating: it holds the migration lock for 1.5 s.
      await other.query('BEGIN');
      await other.query("SELECT pg_advisory_xact_lock($1::int, hashtext('public'))", [0x66677731]);
      setTimeout(() => void other.query('COMMIT'), 1500);
      const pool = await openPostgres(db.url, { statementTimeoutMs: 200 });
      await pool.end();
    } finally {
      await other.end();
    }
  });

  it('answers 503 service_unavailable with Retry-After while the database is stopped, and recovers without a restart', async () => {
    expect((await run()).status).toBe(200);
    const falCalls = gw.sim.stats().calls.run;
    db.stop();
    try {
      await expectUnavailable(await run());
      const ready = await get('/readyz');
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ error_type: 'service_unavailable', store: 'unavailable' });
      // Nothing was sent to fal.
      expect(gw.sim.stats().calls.run).toBe(falCalls);
    } finally {
      db.start();
    }
    expect((await run()).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
  }, 60_000);

  it('never answers a retryable 502/503/504 for a POST that reached fal before the database failed', async () => {
    gw.sim.setFaults({ latencyMs: 1500 });
    const calls = gw.sim.stats().calls.run;
    try {
      const pending = run();
      // Stop the database once the call has left for fal.
      for (let i = 0; i < 50 && gw.sim.stats().calls.run === calls; i++) await new Promise((r) => setTimeout(r, 20));
      db.stop();
      const res = await pending;
      await res.arrayBuffer();
      expect(gw.sim.stats().calls.run).toBe(calls + 1);
      expect([502, 503, 504]).not.toContain(res.status);
    } finally {
      gw.sim.setFaults({ latencyMs: 5 });
      db.start();
    }
  }, 60_000);

  it('answers a prompt 503 while the database is frozen (SIGSTOP), and recovers when it thaws', async () => {
    expect((await run()).status).toBe(200);
    db.freeze(true);
    try {
      await expectUnavailable(await run());
      const ready = await get('/readyz');
      expect(ready.status).toBe(503);
    } finally {
      db.freeze(false);
    }
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = (await run()).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
  }, 60_000);
});
