/**
 * The gateway's persistent stores, opened from DATABASE_URL: `sqlite:<path>` for one process,
 * `postgres://…` when several instances share state (docs/design.md §4). Each concern is an interface with
 * one SQL implementation (sql/) for both databases; tests use the same code on an in-memory SQLite.
 */
import type { AdminStore } from './admin-store.js';
import type { AlertClaimStore } from './alert-claim-store.js';
import type { KeyStore } from './key-store.js';
import type { IdempotencyStore, LedgerStore } from './ledger-store.js';
import type { OwnershipStore } from './ownership-store.js';
import type { SessionStore } from './session-store.js';
import type { ReconciliationStore } from './reconciliation-store.js';
import type { PriceStore } from './price-store.js';
import { SqlPriceStore } from './sql/sql-price-store.js';
import { SqlReconciliationStore } from './sql/sql-reconciliation-store.js';
import type { PostgresOptions } from './sql/postgres-pool.js';
import { SqlAdminStore } from './sql/sql-admin-store.js';
import { SqlAlertClaimStore } from './sql/sql-alert-claim-store.js';
import { SqlIdempotencyStore } from './sql/sql-idempotency-store.js';
import { SqlKeyStore } from './sql/sql-key-store.js';
import { SqlLedgerStore } from './sql/sql-ledger-store.js';
import { SqlOwnershipStore } from './sql/sql-ownership-store.js';
import { query, sql, type SqlDb } from './sql/sql-plan.js';
import { SqlTeamStore } from './sql/sql-team-store.js';
import { SqlSessionStore } from './sql/sql-session-store.js';
import { openSqliteDb } from './sql/sqlite-db.js';
import type { TeamStore } from './team-store.js';
import type { WebhookStore } from './webhook-store.js';
import { SqlWebhookStore } from './sql/sql-webhook-store.js';

export interface Stores {
  keys: KeyStore;
  owners: OwnershipStore;
  teams: TeamStore;
  ledger: LedgerStore;
  idempotency: IdempotencyStore;
  /** Budget alerts already sent (alerts/). */
  alertClaims: AlertClaimStore;
  /** Named admin credentials and the audit log. */
  admins: AdminStore;
  /** Console sign-in sessions and one-time sign-in codes. */
  sessions: SessionStore;
  /** Webhook relay outbox and the gateway's signing key (webhooks/). */
  webhooks: WebhookStore;
  /** Reconciliation against fal's usage API: results per bucket, the job lease. */
  reconciliation: ReconciliationStore;
  /** fal's price for the endpoint, shared by every instance (PRICE_SOURCE=fal). */
  prices: PriceStore;
  /** Cheap liveness probe for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Options only the Postgres backend uses (schema, pool size, idle-error hook); SQLite ignores them. */
export type StoreOptions = PostgresOptions;

/**
 * Fresh stores on a private in-memory SQLite database, migrated like a file: the production SQL,
 * with nothing left behind after close. Synchronous, for tests and tools that need a throwaway
 * gateway (equivalent to `openStores('sqlite::memory:')`).
 */
export function memoryStores(): Stores {
  return sqlStores(openSqliteDb(':memory:'));
}

/** Opens and migrates the database named by `databaseUrl`; rejects on an unknown scheme. */
export async function openStores(databaseUrl: string, options: StoreOptions = {}): Promise<Stores> {
  if (databaseUrl.startsWith('sqlite:')) return sqlStores(openSqliteDb(databaseUrl.slice('sqlite:'.length)));
  if (databaseUrl.startsWith('postgres://') || databaseUrl.startsWith('postgresql://')) {
    // Loaded only here: a SQLite gateway never loads pg.
    const [{ PostgresDb }, { openPostgres }] = await Promise.all([import('./sql/postgres-db.js'), import('./sql/postgres-pool.js')]);
    return sqlStores(new PostgresDb(await openPostgres(databaseUrl, options)));
  }
  throw new Error('DATABASE_URL must start with sqlite:, postgres:// or postgresql://');
}

const PING = sql('SELECT 1 AS one');

/** The stores on one open database (exported for tests that wrap the database). */
export function sqlStores(db: SqlDb): Stores {
  return {
    keys: new SqlKeyStore(db),
    owners: new SqlOwnershipStore(db),
    teams: new SqlTeamStore(db),
    ledger: new SqlLedgerStore(db),
    idempotency: new SqlIdempotencyStore(db),
    alertClaims: new SqlAlertClaimStore(db),
    admins: new SqlAdminStore(db),
    sessions: new SqlSessionStore(db),
    webhooks: new SqlWebhookStore(db),
    reconciliation: new SqlReconciliationStore(db),
    prices: new SqlPriceStore(db),
    ping: async () => {
      await db.run(query(PING));
    },
    close: () => db.close(),
  };
}
