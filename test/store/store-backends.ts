/**
 * The storage backends every contract suite runs against. Each test gets a fresh, empty database:
 * a temp file for SQLite, a new schema for Postgres (dropped afterwards), so suites never see each
 * other's rows and can run in parallel. Postgres runs only when TEST_DATABASE_URL is set.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe } from 'vitest';
import { openStores, type StoreOptions, type Stores } from '../../src/store/stores.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

/** Why the Postgres suites are skipped, or undefined when they run. */
export const postgresSkipReason =
  TEST_DATABASE_URL === undefined || TEST_DATABASE_URL === ''
    ? 'TEST_DATABASE_URL is unset; set it (e.g. postgres://postgres@127.0.0.1:5432/test) to run the Postgres adapters'
    : undefined;
if (postgresSkipReason !== undefined) console.warn(`[store tests] Postgres skipped: ${postgresSkipReason}`);

/** One empty database; `open` gives an independent handle on it (own connection or pool). */
export interface TestDatabase {
  open(options?: StoreOptions): Promise<Stores>;
  dispose(): Promise<void>;
}

export interface Backend {
  name: string;
  skipReason?: string;
  fresh(): Promise<TestDatabase>;
}

export const backends: Backend[] = [
  { name: 'sqlite', fresh: () => Promise.resolve(freshSqlite()) },
  { name: 'postgres', skipReason: postgresSkipReason, fresh: freshPostgres },
];

function freshSqlite(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'fgw-store-'));
  return withHandles((options) => openStores(`sqlite:${join(dir, 'gateway.db')}`, options), () => {
    rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  });
}

/** A fresh Postgres schema; the caller owns it (use `dispose` or `dropSchema`). */
export async function createSchema(): Promise<string> {
  const schema = `fgw_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
  return schema;
}

export async function dropSchema(schema: string): Promise<void> {
  await adminQuery(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
}

export function postgresUrl(): string {
  if (TEST_DATABASE_URL === undefined || TEST_DATABASE_URL === '') throw new Error(postgresSkipReason);
  return TEST_DATABASE_URL;
}

async function freshPostgres(): Promise<TestDatabase> {
  const schema = await createSchema();
  return withHandles((options) => openStores(postgresUrl(), { ...options, schema }), () => dropSchema(schema));
}

/** DDL on a one-off connection outside any gateway pool (schema names are generated, never input). */
async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function withHandles(open: (options?: StoreOptions) => Promise<Stores>, remove: () => Promise<void>): TestDatabase {
  const handles: Stores[] = [];
  return {
    async open(options) {
      const stores = await open(options);
      handles.push(stores);
      return stores;
    },
    async dispose() {
      await Promise.all(handles.splice(0).map((h) => h.close()));
      await remove();
    },
  };
}

/** Returns a factory of fresh databases that are all disposed after each test. */
export function useDatabases(backend: Backend): () => Promise<TestDatabase> {
  const opened: TestDatabase[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.dispose()));
  });
  return async () => {
    const db = await backend.fresh();
    opened.push(db);
    return db;
  };
}

/**
 * One `describe` per backend, each test getting fresh databases from `fresh`. A backend that needs
 * an absent service becomes `describe.skip` with the reason in its title, so the report says why.
 */
export function describeBackends(concern: string, body: (fresh: () => Promise<TestDatabase>, backend: Backend) => void): void {
  for (const backend of backends) {
    if (backend.skipReason === undefined) {
      describe(`${concern} contract: ${backend.name}`, () => body(useDatabases(backend), backend));
    } else {
      describe.skip(`${concern} contract: ${backend.name} (skipped: ${backend.skipReason})`, () => body(useDatabases(backend), backend));
    }
  }
}
