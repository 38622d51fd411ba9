/**
 * The schema, one ordered list for both databases: entry N is schema version N + 1 (SQLite's
 * user_version, Postgres's schema_migrations). Written with Postgres types; sql-text.ts maps them to
 * the SQLite types every earlier release created (INTEGER, REAL, TEXT, BLOB), so a database made by
 * any release upgrades in place. Never edit a shipped entry: append.
 */

/** DDL for both databases, or per database where SQLite cannot say what Postgres should do. */
export type Migration = string | { sqlite: string; postgres: string };

export const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE keys (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     team TEXT,
     kind TEXT NOT NULL DEFAULT 'secret',
     hash TEXT NOT NULL UNIQUE,
     prefix TEXT NOT NULL,
     budget_micro_usd BIGINT,
     rpm INTEGER,
     max_concurrency INTEGER,
     allowed_webhook_urls JSONB NOT NULL DEFAULT '[]',
     created_at TIMESTAMPTZ NOT NULL,
     revoked_at TIMESTAMPTZ
   )`,
  // 2: request ownership (ownership-store.ts). No foreign key: keys are revoked, never deleted.
  // No longer written (a queue row's key and token are its owner now); still read for old requests.
  `CREATE TABLE request_owners (
     request_id TEXT PRIMARY KEY,
     key_id TEXT NOT NULL,
     created_at TIMESTAMPTZ NOT NULL
   )`,
  // 3: daily and monthly key budgets (domain/budgets.ts).
  `ALTER TABLE keys ADD COLUMN budget_daily_micro_usd BIGINT;
   ALTER TABLE keys ADD COLUMN budget_monthly_micro_usd BIGINT`,
  // 4: team budgets (team-store.ts); a team without a row here has no limits.
  `CREATE TABLE teams (
     name TEXT PRIMARY KEY,
     budget_micro_usd BIGINT,
     budget_daily_micro_usd BIGINT,
     budget_monthly_micro_usd BIGINT,
     updated_at TIMESTAMPTZ NOT NULL
   )`,
  // 5: the money ledger, its budget counters and idempotent replies (ledger-store.ts). On SQLite
  // created_at holds Date#toISOString() text, so text order is time order.
  `CREATE TABLE ledger_entries (
     id TEXT PRIMARY KEY,
     key_id TEXT NOT NULL,
     team TEXT,
     operation TEXT NOT NULL CHECK (operation IN ('run', 'submit')),
     fal_request_id TEXT,
     idempotency_key TEXT,
     body_hash TEXT,
     state TEXT NOT NULL CHECK (state IN ('reserved', 'settled', 'released')),
     outcome TEXT,
     quoted_micro BIGINT NOT NULL CHECK (quoted_micro >= 0),
     settled_micro BIGINT,
     requested_megapixels DOUBLE PRECISION NOT NULL,
     billed_units DOUBLE PRECISION,
     settle_source TEXT,
     verified BOOLEAN,
     http_status INTEGER,
     end_user TEXT,
     created_at TIMESTAMPTZ NOT NULL,
     settled_at TIMESTAMPTZ
   );
   CREATE UNIQUE INDEX ledger_fal_request_id ON ledger_entries (fal_request_id) WHERE fal_request_id IS NOT NULL;
   CREATE UNIQUE INDEX ledger_idempotency ON ledger_entries (key_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
   CREATE INDEX ledger_reserved ON ledger_entries (created_at, id) WHERE state = 'reserved';
   CREATE INDEX ledger_key_created ON ledger_entries (key_id, created_at);
   CREATE INDEX ledger_team_created ON ledger_entries (team, created_at);
   CREATE INDEX ledger_created ON ledger_entries (created_at);
   CREATE TABLE budget_counters (
     scope TEXT NOT NULL,
     bucket TEXT NOT NULL,
     reserved_micro BIGINT NOT NULL DEFAULT 0 CHECK (reserved_micro >= 0),
     spent_micro BIGINT NOT NULL DEFAULT 0 CHECK (spent_micro >= 0),
     PRIMARY KEY (scope, bucket)
   ) /*sqlite: WITHOUT ROWID*/;
   CREATE TABLE idempotency_responses (
     ledger_id TEXT PRIMARY KEY REFERENCES ledger_entries (id),
     status_code INTEGER NOT NULL,
     headers JSONB NOT NULL,
     body BYTEA NOT NULL,
     stored_at TIMESTAMPTZ NOT NULL
   );
   CREATE INDEX idempotency_stored ON idempotency_responses (stored_at)`,
  // 6: in-flight counts per key (max_concurrency) read only the key's open rows.
  `CREATE INDEX ledger_key_reserved ON ledger_entries (key_id) WHERE state = 'reserved'`,
  // 7: browser tokens (ledger-store.ts): the token a request came through and its num_images, which
  // settle and release need to move the token's counters. Rows from before this carry no token.
  `ALTER TABLE ledger_entries ADD COLUMN token_id TEXT;
   ALTER TABLE ledger_entries ADD COLUMN images INTEGER NOT NULL DEFAULT 1;
   CREATE INDEX ledger_token ON ledger_entries (token_id) WHERE token_id IS NOT NULL`,
  // 8: publishable keys (key-store.ts): browser origins they may be used from, and a per-key policy
  // (domain/policy.ts KeyPolicy as JSON, NULL = none).
  `ALTER TABLE keys ADD COLUMN allowed_origins JSONB NOT NULL DEFAULT '[]';
   ALTER TABLE keys ADD COLUMN policy JSONB`,
  // 9: how far each row's fal call got, and the deadline of the instance that sent it
  // (ledger-store.ts UpstreamPhase). Rows from before this may have been sent: they read as `sent`.
  // Postgres adds the column with that default and then changes it (no table rewrite); SQLite
  // cannot change a column's default, so it sets the old rows instead.
  {
    postgres: `ALTER TABLE ledger_entries
                 ADD COLUMN upstream_phase TEXT NOT NULL DEFAULT 'sent' CHECK (upstream_phase IN ('reserved', 'sent')),
                 ADD COLUMN deadline_at TIMESTAMPTZ;
               ALTER TABLE ledger_entries ALTER COLUMN upstream_phase SET DEFAULT 'reserved'`,
    sqlite: `ALTER TABLE ledger_entries ADD COLUMN upstream_phase TEXT NOT NULL DEFAULT 'reserved' CHECK (upstream_phase IN ('reserved', 'sent'));
             ALTER TABLE ledger_entries ADD COLUMN deadline_at TEXT;
             UPDATE ledger_entries SET upstream_phase = 'sent'`,
  },
  // 10: no query selects ledger rows by token (a token's spend and images live in its counters):
  // the index only cost every reservation a write (issue #12, indexes reviewed against the queries).
  `DROP INDEX ledger_token`,
  // 11: named admin credentials (admin-store.ts; only the SHA-256 of the secret, as for keys) and the
  // audit log of admin actions. New tables only.
  `CREATE TABLE admin_credentials (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
     hash TEXT NOT NULL UNIQUE,
     prefix TEXT NOT NULL,
     created_at TIMESTAMPTZ NOT NULL,
     revoked_at TIMESTAMPTZ
   );
   CREATE TABLE admin_audit (
     id TEXT PRIMARY KEY,
     at TIMESTAMPTZ NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     target TEXT,
     before_value JSONB,
     after_value JSONB,
     client_ip TEXT
   );
   CREATE INDEX admin_audit_at ON admin_audit (at, id)`,
  // 12: budget alerts delivered (alerts/budget-alerts.ts): one row per scope, period bucket and
  // threshold; the instance whose INSERT wins sends the alert. Depends on no other table.
  `CREATE TABLE IF NOT EXISTS alert_claims (
     scope TEXT NOT NULL,
     bucket TEXT NOT NULL,
     threshold INTEGER NOT NULL,
     claimed_at TIMESTAMPTZ NOT NULL,
     PRIMARY KEY (scope, bucket, threshold)
   )`,
  // 13: key lifecycle (issue #10): an expiry, owner and metadata, and the secret a rotation replaced
  // with the time it stops working (grace period). Only hashes are stored, as for `hash`.
  `ALTER TABLE keys ADD COLUMN expires_at TIMESTAMPTZ;
   ALTER TABLE keys ADD COLUMN owner TEXT;
   ALTER TABLE keys ADD COLUMN metadata JSONB;
   ALTER TABLE keys ADD COLUMN previous_hash TEXT;
   ALTER TABLE keys ADD COLUMN previous_hash_until TIMESTAMPTZ;
   CREATE UNIQUE INDEX keys_previous_hash ON keys (previous_hash) WHERE previous_hash IS NOT NULL`,
  // 14: console sign-in (store/session-store.ts): sessions and one-time sign-in codes, keyed by the
  // SHA-256 of the session id or code (never the value). New tables only.
  `CREATE TABLE admin_sessions (
     id_hash TEXT PRIMARY KEY,
     actor TEXT NOT NULL,
     role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
     credential_id TEXT NOT NULL,
     csrf_token TEXT NOT NULL,
     created_at TIMESTAMPTZ NOT NULL,
     last_seen_at TIMESTAMPTZ NOT NULL,
     expires_at TIMESTAMPTZ NOT NULL
   );
   CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);
   CREATE INDEX admin_sessions_last_seen ON admin_sessions (last_seen_at);
   CREATE TABLE console_sign_in_codes (
     hash TEXT PRIMARY KEY,
     created_at TIMESTAMPTZ NOT NULL,
     expires_at TIMESTAMPTZ NOT NULL
   )`,
  // 15: the requests report pages ledger rows newest first by (created_at, id), ids in byte order
  // (ledger-store.ts page): an index in that order (Postgres: ids under "C", as the query sorts
  // them). It leads with created_at, so it also serves every query ledger_created served.
  {
    postgres: `CREATE INDEX ledger_created_id ON ledger_entries (created_at, id COLLATE "C"); DROP INDEX ledger_created`,
    sqlite: `CREATE INDEX ledger_created_id ON ledger_entries (created_at, id); DROP INDEX ledger_created`,
  },
  // 16: webhook relay (store/webhook-store.ts): the outbox of deliveries to callers' fal_webhook
  // URLs, claimed with a lease, and the gateway's own signing key. New tables only; times are epoch ms.
  `CREATE TABLE webhook_relays (
     ledger_id TEXT PRIMARY KEY,
     key_id TEXT NOT NULL,
     url TEXT NOT NULL,
     fal_request_id TEXT,
     body BYTEA,
     state TEXT NOT NULL CHECK (state IN ('awaiting', 'pending', 'delivered', 'failed')),
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at BIGINT,
     lease_owner TEXT,
     lease_until BIGINT,
     last_status INTEGER,
     last_error TEXT,
     created_at BIGINT NOT NULL,
     received_at BIGINT,
     finished_at BIGINT
   );
   CREATE INDEX webhook_relays_due ON webhook_relays (state, next_attempt_at);
   CREATE TABLE webhook_signing_keys (
     id TEXT PRIMARY KEY,
     private_key TEXT NOT NULL,
     created_at BIGINT NOT NULL
   )`,
  // 17: cost truth (issue #14): what reconciling the ledger against fal's usage API found, per bucket
  // (re-running a window replaces its rows); the lease that lets one instance run the scheduled job
  // at a time; fal's price for the endpoint, one row every instance reads (PRICE_SOURCE=fal); and
  // the price each ledger row was quoted at, which its settlement uses (NULL on older rows).
  `CREATE TABLE reconciliation_buckets (
     size TEXT NOT NULL CHECK (size IN ('hour', 'day')),
     bucket_start TIMESTAMPTZ NOT NULL,
     bucket_end TIMESTAMPTZ NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('matched', 'difference', 'pending')),
     note TEXT,
     fal_units DOUBLE PRECISION NOT NULL,
     fal_micro BIGINT NOT NULL,
     ledger_units DOUBLE PRECISION NOT NULL,
     ledger_micro BIGINT NOT NULL,
     diff_units DOUBLE PRECISION NOT NULL,
     diff_micro BIGINT NOT NULL,
     rows_json TEXT NOT NULL,
     checked_at TIMESTAMPTZ NOT NULL,
     PRIMARY KEY (size, bucket_start)
   );
   CREATE TABLE job_leases (
     name TEXT PRIMARY KEY,
     holder TEXT NOT NULL,
     lease_until TIMESTAMPTZ NOT NULL
   );
   CREATE INDEX ledger_settled_at ON ledger_entries (settled_at) WHERE settled_at IS NOT NULL;
   CREATE TABLE fal_prices (
     endpoint_id TEXT PRIMARY KEY,
     unit TEXT NOT NULL,
     micro_usd_per_unit BIGINT NOT NULL CHECK (micro_usd_per_unit >= 0),
     fal_unit_price TEXT NOT NULL,
     fetched_at TIMESTAMPTZ NOT NULL
   );
   ALTER TABLE ledger_entries ADD COLUMN unit_price_micro BIGINT`,
  // 18: a relay row without a URL marks a submit registered with the gateway's webhook for
  // settlement only (WEBHOOK_SETTLEMENT, no fal_webhook): the reconciler skips its status polls
  // (pipeline/reconciler.ts). SQLite cannot drop NOT NULL in place, so it rebuilds the table.
  {
    postgres: `ALTER TABLE webhook_relays ALTER COLUMN url DROP NOT NULL`,
    sqlite: `CREATE TABLE webhook_relays_17 (
       ledger_id TEXT PRIMARY KEY,
       key_id TEXT NOT NULL,
       url TEXT,
       fal_request_id TEXT,
       body BLOB,
       state TEXT NOT NULL CHECK (state IN ('awaiting', 'pending', 'delivered', 'failed')),
       attempts INTEGER NOT NULL DEFAULT 0,
       next_attempt_at INTEGER,
       lease_owner TEXT,
       lease_until INTEGER,
       last_status INTEGER,
       last_error TEXT,
       created_at INTEGER NOT NULL,
       received_at INTEGER,
       finished_at INTEGER
     );
     INSERT INTO webhook_relays_17 SELECT ledger_id, key_id, url, fal_request_id, body, state, attempts, next_attempt_at,
       lease_owner, lease_until, last_status, last_error, created_at, received_at, finished_at FROM webhook_relays;
     DROP TABLE webhook_relays;
     ALTER TABLE webhook_relays_17 RENAME TO webhook_relays;
     CREATE INDEX webhook_relays_due ON webhook_relays (state, next_attempt_at)`,
  },
  // 19: the idempotency expiry (every reconciler pass) finds the rows whose keys it forgets through
  // an index of those rows only; through ledger_created_id it walked the ledger from its first row
  // every 5 s (test/store/index-use.test.ts).
  `CREATE INDEX ledger_idempotency_created ON ledger_entries (created_at) WHERE idempotency_key IS NOT NULL`,
  // 20: fgw_guard (sql-plan.ts GuardFailed): a statement that calls it with a false condition fails,
  // so a reservation sent to Postgres in one message with its COMMIT rolls back when its own checks
  // fail (sql-ledger-reserve.ts). SQLite registers the same function on each connection.
  {
    postgres: `CREATE FUNCTION fgw_guard(ok boolean) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $fgw$
       BEGIN
         IF ok IS NOT TRUE THEN
           RAISE EXCEPTION 'fgw_guard: condition false' USING ERRCODE = 'FGW01';
         END IF;
         RETURN TRUE;
       END
     $fgw$`,
    sqlite: `-- fgw_guard is a function of the connection (sqlite-db.ts): nothing to store`,
  },
];
