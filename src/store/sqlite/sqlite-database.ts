/**
 * Opens the embedded SQLite database and brings its schema up to date.
 * WAL + synchronous=NORMAL: committed rows survive a process crash (kill -9), and a commit does not
 * fsync, which matters because better-sqlite3 blocks the event loop (perf-reliability.md, takeaway 5).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type SqliteDb = Database.Database;

/** Ordered migrations; index + 1 is the schema version. Never edit a shipped entry: append. */
const MIGRATIONS: readonly string[] = [
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
];

export function openSqlite(path: string): SqliteDb {
  if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path === '' ? ':memory:' : path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

function migrate(db: SqliteDb): void {
  // IMMEDIATE: two processes starting at once must not both apply a migration.
  db.transaction(() => {
    const now = db.pragma('user_version', { simple: true }) as number;
    for (let v = now; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v] ?? '');
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}
