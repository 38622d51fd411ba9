/**
 * The gateway's persistent stores, opened from DATABASE_URL: `sqlite:<path>` for one process,
 * `postgres://…` when several instances share state (DESIGN §4). Each concern is an interface with
 * an in-memory twin for tests.
 */
import type { KeyStore } from './key-store.js';
import { MemoryKeyStore } from './memory/memory-key-store.js';
import { MemoryOwnershipStore } from './memory/memory-ownership-store.js';
import type { OwnershipStore } from './ownership-store.js';
import { openPostgres, type PostgresOptions } from './postgres/postgres-database.js';
import { PostgresKeyStore } from './postgres/postgres-key-store.js';
import { PostgresOwnershipStore } from './postgres/postgres-ownership-store.js';
import { openSqlite } from './sqlite/sqlite-database.js';
import { SqliteKeyStore } from './sqlite/sqlite-key-store.js';
import { SqliteOwnershipStore } from './sqlite/sqlite-ownership-store.js';

export interface Stores {
  keys: KeyStore;
  owners: OwnershipStore;
  /** Cheap liveness probe for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Options only the Postgres backend uses (schema, pool size, idle-error hook); SQLite ignores them. */
export type StoreOptions = PostgresOptions;

export function memoryStores(): Stores {
  return {
    keys: new MemoryKeyStore(),
    owners: new MemoryOwnershipStore(),
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
