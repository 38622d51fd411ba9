/**
 * Schema of the SQLite store, applied in order by sqlite-database.ts.
 * Ordered migrations; index + 1 is the schema version. Never edit a shipped entry: append.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE keys (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     team TEXT,
     kind TEXT NOT NULL DEFAULT 'secret',
     hash TEXT NOT NULL UNIQUE,
     prefix TEXT NOT NULL,
     budget_micro_usd INTEGER,
     rpm INTEGER,
     max_concurrency INTEGER,
     allowed_webhook_urls TEXT NOT NULL DEFAULT '[]',
     created_at TEXT NOT NULL,
     revoked_at TEXT
   )`,
  // 2: request ownership (ownership-store.ts). No foreign key: keys are revoked, never deleted.
  `CREATE TABLE request_owners (
     request_id TEXT PRIMARY KEY,
     key_id TEXT NOT NULL,
     created_at TEXT NOT NULL
   )`,
  // 3: daily and monthly key budgets (domain/budgets.ts).
  `ALTER TABLE keys ADD COLUMN budget_daily_micro_usd INTEGER;
   ALTER TABLE keys ADD COLUMN budget_monthly_micro_usd INTEGER`,
  // 4: team budgets (team-store.ts); a team without a row here has no limits.
  `CREATE TABLE teams (
     name TEXT PRIMARY KEY,
     budget_micro_usd INTEGER,
     budget_daily_micro_usd INTEGER,
     budget_monthly_micro_usd INTEGER,
     updated_at TEXT NOT NULL
   )`,
  // 5: the money ledger, its budget counters and idempotent replies (ledger-store.ts).
  // created_at holds Date#toISOString() text, so text order is time order and substr(…, 1, 10) is the UTC day.
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
     quoted_micro INTEGER NOT NULL CHECK (quoted_micro >= 0),
     settled_micro INTEGER,
     requested_megapixels REAL NOT NULL,
     billed_units REAL,
     settle_source TEXT,
     verified INTEGER,
     http_status INTEGER,
     end_user TEXT,
     created_at TEXT NOT NULL,
     settled_at TEXT
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
     reserved_micro INTEGER NOT NULL DEFAULT 0 CHECK (reserved_micro >= 0),
     spent_micro INTEGER NOT NULL DEFAULT 0 CHECK (spent_micro >= 0),
     PRIMARY KEY (scope, bucket)
   ) WITHOUT ROWID;
   CREATE TABLE idempotency_responses (
     ledger_id TEXT PRIMARY KEY REFERENCES ledger_entries (id),
     status_code INTEGER NOT NULL,
     headers TEXT NOT NULL,
     body BLOB NOT NULL,
     stored_at TEXT NOT NULL
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
  `ALTER TABLE keys ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '[]';
   ALTER TABLE keys ADD COLUMN policy TEXT`,
  // 9: how far each row's fal call got, and the deadline of the instance that sent it
  // (ledger-store.ts UpstreamPhase). Rows from before this may have been sent: they read as `sent`.
  `ALTER TABLE ledger_entries ADD COLUMN upstream_phase TEXT NOT NULL DEFAULT 'reserved' CHECK (upstream_phase IN ('reserved', 'sent'));
   ALTER TABLE ledger_entries ADD COLUMN deadline_at TEXT;
   UPDATE ledger_entries SET upstream_phase = 'sent'`,
];
