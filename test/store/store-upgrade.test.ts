/**
 * Databases made by the current release upgrade in place, on SQLite and on Postgres. Each is built
 * from the release's own migrations (fixtures/release-schema.ts), never from the code under test:
 * one from before browser tokens and publishable keys (version 6), one at the release's latest
 * version. Its keys read as before, its rows still reserved settle as before, the request owners it
 * recorded (request_owners, no longer written) still answer, and the upgraded schema is the one a
 * fresh database gets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { openStores, type Stores } from '../../src/store/stores.js';
import { RELEASE_POSTGRES_MIGRATIONS, RELEASE_SQLITE_MIGRATIONS } from './fixtures/release-schema.js';
import { reserveInput, scopeRefs, settleInput, token, UNIT } from './ledger-fixtures.js';
import { createSchema, dropSchema, postgresSkipReason, postgresUrl } from './store-backends.js';

const RELEASE_VERSION = RELEASE_SQLITE_MIGRATIONS.length;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A key, one reserved row of it and the row's counters, as a version-6 (or later) schema holds them. */
const SEED = [
  `INSERT INTO keys (id, name, hash, prefix, created_at) VALUES ('key_old', 'old', 'h', 'fgw_sk_x', '2026-01-01T00:00:00.000Z')`,
  `INSERT INTO ledger_entries (id, key_id, operation, state, quoted_micro, requested_megapixels, created_at)
   VALUES ('req_old', 'key_old', 'submit', 'reserved', ${UNIT}, 1, '2026-03-15T12:00:00.000Z')`,
  `INSERT INTO budget_counters (scope, bucket, reserved_micro) VALUES
   ('key:key_old', 'all', ${UNIT}), ('key:key_old', '2026-03-15', ${UNIT}), ('key:key_old', '2026-03', ${UNIT})`,
  `INSERT INTO request_owners (request_id, key_id, created_at) VALUES ('fal_old', 'key_old', '2026-03-15T12:00:00.000Z')`,
];

async function expectUpgraded(stores: Stores): Promise<void> {
  expect(await stores.keys.get('key_old')).toMatchObject({ kind: 'secret', allowedOrigins: [], policy: null, allowedWebhookUrls: [] });
  expect(await stores.owners.ownerOf('fal_old')).toBe('key_old');
  // A row from before upstream phases may have been sent: recovery must charge it, not release it.
  expect(await stores.ledger.get('req_old')).toMatchObject({ state: 'reserved', tokenId: null, images: 1, endUser: null, upstreamPhase: 'sent', deadlineAt: null });
  expect(await stores.ledger.settle('req_old', { ...settleInput(UNIT), falRequestId: 'fal_req_old' })).toBe(true);
  expect(await stores.ledger.findByFalRequestId('fal_req_old')).toMatchObject({ id: 'req_old', state: 'settled', settledMicro: UNIT });
  const spent = { spentMicro: UNIT, reservedMicro: 0 };
  expect(await stores.ledger.counterTotals(scopeRefs('key:key_old', '2026-03-15T12:00:00.000Z'))).toEqual([spent, spent, spent]);
  expect(await stores.keys.update('key_old', { policy: { maxNumImages: 2 } })).toMatchObject({ policy: { maxNumImages: 2 } });
  // The old queue row, its fal id attached now, is owned through the ledger; the owner the release
  // wrote to request_owners stays the answer: the same id attached later to a row with another
  // owner is refused, as the release refused it.
  expect(await stores.owners.ownerOf('fal_req_old')).toBe('key_old');
  const later = await stores.ledger.reserve(reserveInput({ keyId: 'key_old', token: token('tok_later') }));
  if (!later.ok) throw new Error('expected a reservation');
  await expect(stores.ledger.attachFalRequestId(later.row.id, 'fal_old')).rejects.toThrow(/cannot be attached/);
  expect(await stores.ledger.get(later.row.id)).toMatchObject({ falRequestId: null });
  expect(await stores.owners.ownerOf('fal_old')).toBe('key_old');
}

function sqliteFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fgw-upgrade-'));
  cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
  return join(dir, 'gateway.db');
}

function releaseSqlite(file: string, version: number): void {
  const old = new Database(file);
  for (const ddl of RELEASE_SQLITE_MIGRATIONS.slice(0, version)) old.exec(ddl);
  for (const seed of SEED) old.exec(seed);
  old.pragma(`user_version = ${version}`);
  old.close();
}

/** Tables, columns (name, type, nullability, default, key) and indexes of a SQLite file. */
function sqliteSchema(file: string): unknown {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    const indexes = db.prepare("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").all();
    return { tables: tables.map((t) => ({ name: t.name, columns: db.pragma(`table_info(${t.name})`) })), indexes };
  } finally {
    db.close();
  }
}

async function releasePostgres(schema: string, version: number, seed: boolean): Promise<void> {
  await withClient(schema, async (client) => {
    await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)');
    for (const [i, ddl] of RELEASE_POSTGRES_MIGRATIONS.slice(0, version).entries()) {
      await client.query(ddl);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [i + 1]);
    }
    if (seed) for (const s of SEED) await client.query(s);
  });
}

async function withClient<T>(schema: string, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresUrl(), options: `-c search_path=${schema}` });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

/** Columns and indexes of a Postgres schema, without the schema's name. */
function postgresSchema(schema: string): Promise<unknown> {
  return withClient(schema, async (client) => {
    const columns = await client.query(
      `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
       WHERE table_schema = $1 ORDER BY table_name, column_name`,
      [schema],
    );
    const indexes = await client.query('SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname', [schema]);
    return { columns: columns.rows, indexes: indexes.rows.map((r: { indexname: string; indexdef: string }) => [r.indexname, r.indexdef.replaceAll(`${schema}.`, '')]) };
  });
}

const pgIt = postgresSkipReason === undefined ? it : it.skip;
const pgTitle = (title: string) => `${title}${postgresSkipReason === undefined ? '' : ` (skipped: ${postgresSkipReason})`}`;

describe.each([6, RELEASE_VERSION])('upgrading a database the release made at version %i', (version) => {
  it('SQLite', async () => {
    const file = sqliteFile();
    releaseSqlite(file, version);
    const stores = await openStores(`sqlite:${file}`);
    cleanups.push(() => stores.close());
    await expectUpgraded(stores);
  });

  pgIt(pgTitle('Postgres'), async () => {
    const schema = await createSchema();
    cleanups.push(() => dropSchema(schema));
    await releasePostgres(schema, version, true);
    const stores = await openStores(postgresUrl(), { schema });
    cleanups.push(() => stores.close());
    await expectUpgraded(stores);
  });
});

describe("a release database upgraded has a fresh database's schema", () => {
  it('SQLite', async () => {
    const [upgraded, fresh] = [sqliteFile(), sqliteFile()];
    releaseSqlite(upgraded, RELEASE_VERSION);
    for (const file of [upgraded, fresh]) await (await openStores(`sqlite:${file}`)).close();
    expect(sqliteSchema(upgraded)).toEqual(sqliteSchema(fresh));
  });

  pgIt(pgTitle('Postgres'), async () => {
    const [upgraded, fresh] = [await createSchema(), await createSchema()];
    cleanups.push(() => dropSchema(upgraded), () => dropSchema(fresh));
    await releasePostgres(upgraded, RELEASE_VERSION, false);
    for (const schema of [upgraded, fresh]) await (await openStores(postgresUrl(), { schema })).close();
    expect(await postgresSchema(upgraded)).toEqual(await postgresSchema(fresh));
  });
});
