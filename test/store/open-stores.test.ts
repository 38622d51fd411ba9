/**
 * openStores picks the backend from DATABASE_URL, and an existing SQLite file from before request
 * ownership existed is upgraded in place without losing its keys.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openStores } from '../../src/store/stores.js';
import { reserveInput } from './ledger-fixtures.js';
import { createSchema, dropSchema, postgresSkipReason, postgresUrl } from './store-backends.js';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fgw-open-'));
  dirs.push(dir);
  return join(dir, 'gateway.db');
}

describe('openStores', () => {
  it('rejects a URL with an unknown scheme', async () => {
    await expect(openStores('mysql://localhost/db')).rejects.toThrow(/sqlite:, postgres:\/\/ or postgresql:\/\//);
  });

  it('opens SQLite stores that answer ping and close', async () => {
    const stores = await openStores(`sqlite:${tempFile()}`);
    await expect(stores.ping()).resolves.toBeUndefined();
    expect(await stores.owners.ownerOf('req_unknown')).toBeNull();
    await stores.close();
  });

  it('upgrades a version-1 SQLite file to the current schema (ownership, key budgets, teams, ledger), keeping its keys', async () => {
    const file = tempFile();
    const old = new Database(file);
    old.exec(`CREATE TABLE keys (
      id TEXT PRIMARY KEY, name TEXT NOT NULL, team TEXT, kind TEXT NOT NULL DEFAULT 'secret',
      hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL, budget_micro_usd INTEGER, rpm INTEGER,
      max_concurrency INTEGER, allowed_webhook_urls TEXT NOT NULL DEFAULT '[]',
      created_at TEXT NOT NULL, revoked_at TEXT)`);
    old.prepare("INSERT INTO keys (id, name, hash, prefix, created_at) VALUES ('key_old', 'old', 'h', 'fgw_sk_x', '2026-01-01T00:00:00.000Z')").run();
    old.pragma('user_version = 1');
    old.close();

    const stores = await openStores(`sqlite:${file}`);
    expect(await stores.keys.get('key_old')).toMatchObject({ name: 'old', budgetDailyMicroUsd: null, budgetMonthlyMicroUsd: null });
    const reserved = await stores.ledger.reserve(reserveInput({ keyId: 'key_old' }));
    if (!reserved.ok) throw new Error('expected a reservation');
    await stores.ledger.attachFalRequestId(reserved.row.id, 'req_1');
    expect(await stores.owners.ownerOf('req_1')).toBe('key_old');
    expect(await stores.teams.list()).toEqual([]);
    await stores.close();
  });

  const pg = postgresSkipReason === undefined ? it : it.skip;
  pg(`opens Postgres stores from a postgresql:// URL that answer ping and close${postgresSkipReason === undefined ? '' : ` (skipped: ${postgresSkipReason})`}`, async () => {
    const schema = await createSchema();
    try {
      const url = postgresUrl().replace(/^postgres:\/\//, 'postgresql://');
      const stores = await openStores(url, { schema });
      await expect(stores.ping()).resolves.toBeUndefined();
      expect(await stores.owners.ownerOf('req_unknown')).toBeNull();
      await stores.close();
      await expect(stores.ping()).rejects.toThrow();
    } finally {
      await dropSchema(schema);
    }
  });
});
