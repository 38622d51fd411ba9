/**
 * The gateway's persistent stores, opened from DATABASE_URL: `sqlite:<path>` for one process,
 * `postgres://…` when several instances share state (docs/design.md §4). Each concern is an interface with
 * an in-memory twin for tests.
 */
import type { KeyStore } from './key-store.js';
import type { IdempotencyStore, LedgerStore } from './ledger-store.js';
import { MemoryIdempotencyStore } from './memory/memory-idempotency-store.js';
import { MemoryKeyStore } from './memory/memory-key-store.js';
import { MemoryLedgerStore } from './memory/memory-ledger-store.js';
import { MemoryOwnershipStore } from './memory/memory-ownership-store.js';
import { MemoryTeamStore } from './memory/memory-team-store.js';
import type { OwnershipStore } from './ownership-store.js';
import { openPostgres, type PostgresOptions } from './postgres/postgres-database.js';
import { PostgresIdempotencyStore } from './postgres/postgres-idempotency-store.js';
import { PostgresKeyStore } from './postgres/postgres-key-store.js';
import { PostgresLedgerStore } from './postgres/postgres-ledger-store.js';
import { PostgresOwnershipStore } from './postgres/postgres-ownership-store.js';
import { PostgresTeamStore } from './postgres/postgres-team-store.js';
import { openSqlite } from './sqlite/sqlite-database.js';
import { SqliteIdempotencyStore } from './sqlite/sqlite-idempotency-store.js';
import { SqliteKeyStore } from './sqlite/sqlite-key-store.js';
import { SqliteLedgerStore } from './sqlite/sqlite-ledger-store.js';
import { SqliteOwnershipStore } from './sqlite/sqlite-ownership-store.js';
import { SqliteTeamStore } from './sqlite/sqlite-team-store.js';
import type { TeamStore } from './team-store.js';

export interface Stores {
  keys: KeyStore;
  owners: OwnershipStore;
  teams: TeamStore;
  ledger: LedgerStore;
  idempotency: IdempotencyStore;
  /** Cheap liveness probe for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Options only the Postgres backend uses (schema, pool size, idle-error hook); SQLite ignores them. */
export type StoreOptions = PostgresOptions;

export function memoryStores(): Stores {
  const keys = new MemoryKeyStore();
  const teams = new MemoryTeamStore();
  const ledger = new MemoryLedgerStore({ keys, teams });
  return {
    keys,
    owners: new MemoryOwnershipStore(),
    teams,
    ledger,
    idempotency: new MemoryIdempotencyStore(ledger),
    ping: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

/** Opens and migrates the database named by `databaseUrl`; rejects on an unknown scheme. */
export async function openStores(databaseUrl: string, options: StoreOptions = {}): Promise<Stores> {
  if (databaseUrl.startsWith('sqlite:')) return sqliteStores(databaseUrl.slice('sqlite:'.length));
  if (databaseUrl.startsWith('postgres://') || databaseUrl.startsWith('postgresql://')) {
    const pool = await openPostgres(databaseUrl, options);
    return {
      keys: new PostgresKeyStore(pool),
      owners: new PostgresOwnershipStore(pool),
      teams: new PostgresTeamStore(pool),
      ledger: new PostgresLedgerStore(pool),
      idempotency: new PostgresIdempotencyStore(pool),
      ping: async () => {
        await pool.query('SELECT 1');
      },
      close: () => pool.end(),
    };
  }
  throw new Error('DATABASE_URL must start with sqlite:, postgres:// or postgresql://');
}

function sqliteStores(path: string): Stores {
  const db = openSqlite(path);
  return {
    keys: new SqliteKeyStore(db),
    owners: new SqliteOwnershipStore(db),
    teams: new SqliteTeamStore(db),
    ledger: new SqliteLedgerStore(db),
    idempotency: new SqliteIdempotencyStore(db),
    ping: () => {
      db.prepare('SELECT 1').get();
      return Promise.resolve();
    },
    close: () => {
      db.close();
      return Promise.resolve();
    },
  };
}
