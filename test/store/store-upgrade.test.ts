/**
 * A database from before browser tokens and publishable keys (schema version 6) upgrades in place:
 * its keys read as secret keys without origins or policy, and its rows still reserved settle and
 * release as before (no token, one image), on SQLite and on Postgres.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/postgres-migrations.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/sqlite-migrations.js';
import { openStores, type Stores } from '../../src/store/stores.js';
import { scopeRefs, settleInput, UNIT } from './ledger-fixtures.js';
import { createSchema, dropSchema, postgresSkipReason, postgresUrl } from './store-backends.js';

const VERSION = 6;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A key, one reserved row of it and the row's counters, written as the version-6 schema had them. */
const SEED = [
  `INSERT INTO keys (id, name, hash, prefix, created_at) VALUES ('key_old', 'old', 'h', 'fgw_sk_x', '2026-01-01T00:00:00.000Z')`,
  `INSERT INTO ledger_entries (id, key_id, operation, state, quoted_micro, requested_megapixels, created_at)
   VALUES ('req_old', 'key_old', 'submit', 'reserved', ${UNIT}, 1, '2026-03-15T12:00:00.000Z')`,
  `INSERT INTO budget_counters (scope, bucket, reserved_micro) VALUES
   ('key:key_old', 'all', ${UNIT}), ('key:key_old', '2026-03-15', ${UNIT}), ('key:key_old', '2026-03', ${UNIT})`,
];

async function expectUpgraded(stores: Stores): Promise<void> {
  expect(await stores.keys.get('key_old')).toMatchObject({ kind: 'secret', allowedOrigins: [], policy: null });
  // A row from before upstream phases may have been sent: recovery must charge it, not release it.
  expect(await stores.ledger.get('req_old')).toMatchObject({ state: 'reserved', tokenId: null, images: 1, endUser: null, upstreamPhase: 'sent', deadlineAt: null });
  expect(await stores.ledger.settle('req_old', settleInput(UNIT))).toBe(true);
  const spent = { spentMicro: UNIT, reservedMicro: 0 };
  expect(await stores.ledger.counterTotals(scopeRefs('key:key_old', '2026-03-15T12:00:00.000Z'))).toEqual([spent, spent, spent]);
  expect(await stores.keys.update('key_old', { policy: { maxNumImages: 2 } })).toMatchObject({ policy: { maxNumImages: 2 } });
}

describe('upgrading a version-6 database', () => {
  it('SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fgw-upgrade-'));
    cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
    const file = join(dir, 'gateway.db');
    const old = new Database(file);
    for (const sql of SQLITE_MIGRATIONS.slice(0, VERSION)) old.exec(sql);
    for (const sql of SEED) old.exec(sql);
    old.pragma(`user_version = ${VERSION}`);
    old.close();

    const stores = await openStores(`sqlite:${file}`);
    cleanups.push(() => stores.close());
    await expectUpgraded(stores);
  });

  const pgIt = postgresSkipReason === undefined ? it : it.skip;
  pgIt(`Postgres${postgresSkipReason === undefined ? '' : ` (skipped: ${postgresSkipReason})`}`, async () => {
    const schema = await createSchema();
    cleanups.push(() => dropSchema(schema));
    const client = new pg.Client({ connectionString: postgresUrl(), options: `-c search_path=${schema}` });
    await client.connect();
    try {
      await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)');
      for (const [i, sql] of POSTGRES_MIGRATIONS.slice(0, VERSION).entries()) {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [i + 1]);
      }
      for (const sql of SEED) await client.query(sql);
    } finally {
      await client.end();
    }

    const stores = await openStores(postgresUrl(), { schema });
    cleanups.push(() => stores.close());
    await expectUpgraded(stores);
  });
});
