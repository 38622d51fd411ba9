/**
 * The ledger's indexes, checked against the statements that use them (issue #12 item 3): every
 * statement the request path runs (sync run, queue submit with and without an Idempotency-Key,
 * status, result, cancel, the reconciler's pass) is captured with its parameters as the gateway
 * runs it on SQLite, and SQLite's own plan for it must reach ledger_entries, request_owners and the
 * budget counters through an index, never a full scan. A statement that loses its index (a
 * changed WHERE, a dropped index, a function around an indexed column) fails here, before a
 * ledger of a million rows makes every request slow. docs/store.md lists each index and its users.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindable, openSqliteDb } from '../../src/store/sql/sqlite-db.js';
import type { Op, Params, Plan, SqlDb } from '../../src/store/sql/sql-plan.js';
import { sqliteText } from '../../src/store/sql/sql-text.js';
import { sqlStores } from '../../src/store/stores.js';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

/** Tables a request touches whose size grows with traffic: a scan of one is a defect. */
const GROWING = ['ledger_entries', 'request_owners', 'budget_counters', 'idempotency_responses'];
/**
 * Indexes whose size does not grow with the ledger: the partial ones over rows in flight
 * (`state = 'reserved'`) or over rows with a live Idempotency-Key, and the stored replies'
 * (the expiry deletes what it reads; only a day's replies exist).
 */
const BOUNDED = ['ledger_reserved', 'ledger_key_reserved', 'ledger_idempotency_created', 'idempotency_stored'];

interface Captured {
  text: string;
  params: Params;
}

/** Wraps a SqlDb so every statement it runs is recorded (first parameters seen per text). */
function capturing(db: SqlDb, seen: Map<string, Captured>): SqlDb {
  function* tap<T>(plan: Plan<T>): Plan<T> {
    let step = plan.next();
    while (step.done !== true) {
      const op: Op = step.value;
      for (const q of op.kind === 'batch' ? op.ops : [op]) {
        if (q.kind === 'query' && !seen.has(q.stmt.text)) seen.set(q.stmt.text, { text: q.stmt.text, params: q.params });
      }
      step = plan.next(yield op);
    }
    return step.value;
  }
  return {
    dialect: db.dialect,
    run: (plan) => db.run(tap(plan)),
    write: (plan) => db.write(tap(plan)),
    transaction: (plan, flush) =>
      db.transaction(
        tap(plan),
        flush === undefined
          ? undefined
          : typeof flush === 'function'
            ? (r) => {
                const next = flush(r);
                return next === null ? null : tap(next);
              }
            : tap(flush),
      ),
    isUniqueViolation: (err) => db.isUniqueViolation(err),
    isForeignKeyViolation: (err) => db.isForeignKeyViolation(err),
    close: () => db.close(),
  };
}

/** `alias → table` for the aliases a statement gives its tables (`FROM t a`, `JOIN t AS a`). */
function aliases(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/\b(?:FROM|JOIN)\s+(\w+)\s+(?:AS\s+)?(\w+)/gi)) {
    const [, table, alias] = m;
    if (table !== undefined && alias !== undefined && !/^(WHERE|ON|JOIN|LEFT|INNER|GROUP|ORDER|LIMIT|SET|UNION|USING)$/i.test(alias)) out.set(alias, table);
  }
  return out;
}

const auth = (key: string) => ({ authorization: `Key ${key}`, 'content-type': 'application/json' });

let dir: string;
let path: string;
let gw: TestGateway;
/** Every statement the gateway ran; `requestPath`: those of the request path only (before the operator's reads). */
const seen = new Map<string, Captured>();
const requestPath = new Map<string, Captured>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fgw-index-'));
  path = join(dir, 'gateway.db');
  const stores = sqlStores(capturing(openSqliteDb(path), seen));
  gw = await startTestGateway({ stores, env: { RECONCILE_INTERVAL_MS: '100', STATUS_CACHE_MS: '0' } });
  const { key, id } = await gw.createKey({ name: 'indexed', team: 'ops', max_concurrency: 4, budget_usd: 5, budget_daily_usd: 3 });
  const model = '/fal-ai/stable-diffusion-v35-medium';

  // A sync run, settled from fal's answer.
  expect((await fetch(`${gw.url}${model}`, { method: 'POST', headers: auth(key), body: JSON.stringify(validInput()) })).status).toBe(200);
  // A queue submit with an Idempotency-Key, its repeat, status, result.
  const submit = () =>
    fetch(`${gw.url}/queue${model}`, { method: 'POST', headers: { ...auth(key), 'idempotency-key': 'idx-1' }, body: JSON.stringify(validInput()) });
  const first = (await (await submit()).json()) as { request_id: string };
  expect((await submit()).status).toBe(200);
  const base = `${gw.url}/queue${model}/requests/${first.request_id}`;
  for (let i = 0; i < 50; i++) {
    const s = (await (await fetch(`${base}/status`, { headers: auth(key) })).json()) as { status: string };
    if (s.status === 'COMPLETED') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect((await fetch(base, { headers: auth(key) })).status).toBe(200);
  // A submit left for the reconciler to follow, and one cancelled.
  await fetch(`${gw.url}/queue${model}`, { method: 'POST', headers: auth(key), body: JSON.stringify(validInput()) });
  const cancelled = (await (await fetch(`${gw.url}/queue${model}`, { method: 'POST', headers: auth(key), body: JSON.stringify(validInput()) })).json()) as { request_id: string };
  await fetch(`${gw.url}/queue${model}/requests/${cancelled.request_id}/cancel`, { method: 'PUT', headers: auth(key) });
  // A reconciler pass over the open rows (server.ts runs it on a timer), and an owner lookup
  // as another instance makes it (this one answers its own requests from memory).
  await gw.app.reconciler.pass();
  expect(await stores.owners.ownerOf(first.request_id)).not.toBeNull();
  // The reconciliation's read of one window of the ledger (every hour, RECONCILE_USAGE_INTERVAL_MS).
  const now = Date.now();
  expect((await stores.reconciliation.ledgerRows(new Date(now - 3_600_000).toISOString(), new Date(now + 1000).toISOString())).length).toBeGreaterThan(0);
  for (const [text, c] of seen) requestPath.set(text, c);

  // The operator's reads: reports, request pages, key and team views, with and without a window.
  const admin = { authorization: `Bearer ${gw.adminToken}` };
  const day = new Date().toISOString().slice(0, 10);
  for (const q of ['', `?from=${day}`, '?group_by=day,key', '?group_by=hour,team', '?group_by=end_user', `?team=ops&from=${day}`]) {
    expect((await fetch(`${gw.url}/admin/usage${q}`, { headers: admin })).status).toBe(200);
  }
  for (const path of ['/admin/requests', '/admin/requests?limit=2', '/admin/keys', `/admin/keys/${id}`, '/admin/teams', '/admin/teams/ops']) {
    expect((await fetch(`${gw.url}${path}`, { headers: admin })).status).toBe(200);
  }
}, 30_000);

afterAll(async () => {
  await gw.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('indexes against the statements of the request path (SQLite plans)', () => {
  it('captured the request path: reserve, mark sent, attach, settle, owner lookup, pending', () => {
    const texts = [...requestPath.keys()].join('\n');
    for (const part of ['settled_at >= @from', 'INSERT INTO ledger_entries', "upstream_phase = 'sent'", 'SET fal_request_id', "state = 'reserved' ORDER BY created_at", 'FROM request_owners']) {
      expect(texts).toContain(part);
    }
  });

  it('reaches every growing table through an index', () => {
    const db = readonlyDb(path);
    try {
      const scans: string[] = [];
      for (const { text, params } of requestPath.values()) {
        if (!/^\s*(SELECT|UPDATE|DELETE|WITH)/i.test(text) && !/\bSELECT\b/i.test(text)) continue;
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${sqliteText(text)}`).all(bindable(params)) as { detail: string }[];
        for (const { detail } of plan) {
          // "SCAN t" reads the whole table, "SCAN t USING [COVERING] INDEX i" the whole index, and
          // "SEARCH t USING INDEX i (col<?)" every entry from the first one: all grow with the
          // ledger unless i is one of BOUNDED.
          // SQLite names a table by its alias when the statement gives one (`FROM ledger_entries e`).
          const line = detail.trim();
          if (!/^(SCAN|SEARCH) /.test(line)) continue;
          // Lines that read no table (a VALUES list, a subquery's result, a constant row) are fine.
          if (/^SCAN (\d+-ROW VALUES CLAUSE|\(subquery-\d+\)|CONSTANT ROW)/.test(line)) continue;
          const m = /^(SCAN|SEARCH) (\w+)(?: USING (?:(AUTOMATIC )?(?:PARTIAL )?(?:COVERING )?INDEX (\w+)|(?:INTEGER )?PRIMARY KEY))?(?: \((.*)\))?(?: LEFT-JOIN)?$/.exec(line);
          const table = m === null ? undefined : (aliases(text).get(m[2] ?? '') ?? m[2]);
          // A line this test cannot read is a failure, not a pass.
          if (m === null) {
            scans.push(`unparsed plan line "${line}": ${text.replace(/\s+/g, ' ').slice(0, 120)}`);
            continue;
          }
          if (!GROWING.includes(table ?? '') || BOUNDED.includes(m[4] ?? '')) continue;
          // An AUTOMATIC index is built from a full scan on every run of the statement.
          const fromTheStart = m[1] === 'SCAN' || m[3] !== undefined || /^\w+<\?$/.test(m[5] ?? '');
          if (fromTheStart) scans.push(`${detail.trim()}: ${text.replace(/\s+/g, ' ').replace(/^SELECT .*? FROM /, 'SELECT … FROM ').slice(0, 200)}`);
        }
      }
      expect(scans).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('uses every index of the ledger: each is read by a statement the gateway runs, or enforces uniqueness', () => {
    const db = readonlyDb(path);
    try {
      const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ledger_entries' AND sql IS NOT NULL").all() as { name: string; sql: string }[];
      const used = new Set<string>();
      for (const { text, params } of seen.values()) {
        if (!/\bSELECT\b|^\s*(UPDATE|DELETE)/i.test(text)) continue;
        for (const { detail } of db.prepare(`EXPLAIN QUERY PLAN ${sqliteText(text)}`).all(bindable(params)) as { detail: string }[]) {
          const m = /INDEX (\w+)/.exec(detail);
          if (m?.[1] !== undefined) used.add(m[1]);
        }
      }
      const idle = indexes.filter((i) => !used.has(i.name) && !/^CREATE UNIQUE/i.test(i.sql)).map((i) => i.name);
      // Each idle index costs a B-tree write on every insert and buys nothing.
      expect(idle).toEqual([]);
    } finally {
      db.close();
    }
  });
});

/** The file opened read-only for EXPLAIN, with the connection function the store's statements call. */
function readonlyDb(path: string): Database.Database {
  const db = new Database(path, { readonly: true });
  db.function('fgw_guard', (ok: unknown) => ok);
  return db;
}
