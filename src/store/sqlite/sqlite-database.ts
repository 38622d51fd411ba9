/**
 * Opens the embedded SQLite database and brings its schema up to date.
 * WAL + synchronous=NORMAL: committed rows survive a process crash (kill -9), and a commit does not
 * fsync, which matters because better-sqlite3 blocks the event loop (docs/reliability.md takeaway 5).
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';

export type SqliteDb = Database.Database;

export function openSqlite(path: string): SqliteDb {
  if (path !== ':memory:' && path !== '') {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // The ledger and key hashes are private: a new file is created owner-only (0600), and SQLite
    // gives its -wal and -shm files the database file's own mode. An existing file keeps its mode.
    closeSync(openSync(path, 'a', 0o600));
  }
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
    for (let v = now; v < SQLITE_MIGRATIONS.length; v++) {
      db.exec(SQLITE_MIGRATIONS[v] ?? '');
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}
