/**
 * SqlDb on the embedded SQLite database (better-sqlite3). WAL + synchronous=NORMAL: committed rows
 * survive a process crash (kill -9), and a commit does not fsync, which matters because
 * better-sqlite3 blocks the event loop (docs/reliability.md). Reads run at once; write
 * transactions are grouped per event-loop turn (SqliteDb.transaction) inside BEGIN IMMEDIATE, which
 * takes the write lock before the first read, so a reservation's check-and-charge is atomic against
 * every connection to the file (busy_timeout makes a second writer wait instead of failing).
 * docs/store.md.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import { drive, GuardFailed, type LockOp, type Params, type Plan, type QueryOp, type SqlDb, type SqlValue } from './sql-plan.js';
import { sqliteMigration, sqliteText } from './sql-text.js';

/** Statement texts built per call are few (key patches, usage filters); past this the cache starts over. */
const MAX_CACHED = 500;

export function openSqliteDb(path: string): SqlDb {
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
  // sql-plan.ts GuardFailed: a false (0) or NULL condition fails the statement with it.
  db.function('fgw_guard', (ok: unknown) => {
    if (ok !== 1) throw new GuardFailed();
    return 1;
  });
  migrate(db);
  return new SqliteDb(db);
}

function migrate(db: Database.Database): void {
  // IMMEDIATE: two processes starting at once must not both apply a migration.
  db.transaction(() => {
    const now = db.pragma('user_version', { simple: true }) as number;
    for (let v = now; v < MIGRATIONS.length; v++) {
      db.exec(sqliteMigration(MIGRATIONS[v]));
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}

/** A write transaction waiting for the next group commit. */
interface Queued {
  plan: Plan<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: Error };

/**
 * Plans per COMMIT at most: the write lock is held for one batch, and other processes on the file
 * wait for it (busy_timeout); the rest of a longer queue goes in the next turn.
 */
const MAX_BATCH = 256;

/**
 * Captured at load: tests that fake timers must not stall the database (a faked setImmediate
 * would hold every queued write until the test advanced its clock).
 */
const nextTurn = setImmediate;

class SqliteDb implements SqlDb {
  readonly dialect = 'sqlite';
  private readonly statements = new Map<string, Database.Statement>();
  private readonly inTx;
  private readonly group;
  private queued: Queued[] = [];
  private closed = false;

  constructor(private readonly db: Database.Database) {
    this.inTx = db.transaction(<T>(plan: Plan<T>): T => drive(plan, this.exec));
    // Nested in `group`, each inTx call is a SAVEPOINT (better-sqlite3): a plan that throws rolls
    // back its own writes and none of the others'. Runs the batch until SQLite itself ends the
    // transaction (disk full, I/O error: then what ran before is gone and COMMIT would fail);
    // the plans after that point have not run and are returned to the queue.
    this.group = db.transaction((batch: Queued[]): Outcome[] => {
      const outcomes: Outcome[] = [];
      for (const q of batch) {
        try {
          outcomes.push({ ok: true, value: this.inTx(q.plan) });
        } catch (err) {
          outcomes.push({ ok: false, err: asError(err) });
          // Throwing ends the outer transaction function; better-sqlite3 then skips its COMMIT.
          if (!this.db.inTransaction) throw new BatchLost(asError(err), outcomes.length);
        }
      }
      return outcomes;
    });
  }

  run<T>(plan: Plan<T>): Promise<T> {
    try {
      return Promise.resolve(drive(plan, this.exec));
    } catch (err) {
      return Promise.reject(asError(err));
    }
  }

  /**
   * Group commit: write transactions asked for in the same turn of the event loop (the requests
   * whose bytes arrived together, the answers fal sent together) run one after another in one
   * BEGIN IMMEDIATE … COMMIT (up to MAX_BATCH), each in its own savepoint, and each promise
   * settles after that COMMIT. A commit's cost (WAL frames for every page it touched, the WAL
   * index) is then paid once per turn instead of once per write, and the pages a burst of inserts
   * shares (a ledger index's last leaf) are written once. Each plan still runs alone and in order
   * with the write lock taken before its first read, so its checks and writes are as atomic as
   * before; a plan that throws is rolled back to its savepoint and rejects alone. If SQLite ends
   * the transaction itself on a plan's error, that plan and the ones before it (whose writes went
   * with it) reject with that error and the later ones run in the next turn; if the COMMIT fails,
   * every plan of the batch rejects with its error. No flush argument: a WAL commit here never
   * waits for the disk (synchronous=NORMAL).
   */
  transaction<T>(plan: Plan<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('The SQLite database is closed'));
    return new Promise<T>((resolve, reject) => {
      if (this.queued.length === 0) nextTurn(this.commitQueued);
      this.queued.push({ plan, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  /** A one-statement write, grouped like a transaction (Postgres runs it on its own). */
  write<T>(plan: Plan<T>): Promise<T> {
    return this.transaction(plan);
  }

  private readonly commitQueued = (): void => {
    const batch = this.queued.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    if (this.queued.length > 0) nextTurn(this.commitQueued);
    if (batch.length === 1) {
      // Alone in its turn: no savepoint needed.
      const [q] = batch as [Queued];
      try {
        q.resolve(this.inTx.immediate(q.plan));
      } catch (err) {
        q.reject(asError(err));
      }
      return;
    }
    let outcomes: Outcome[];
    try {
      outcomes = this.group.immediate(batch);
    } catch (err) {
      if (err instanceof BatchLost) {
        for (const q of batch.slice(0, err.ran)) q.reject(err.cause);
        const rest = batch.slice(err.ran);
        if (rest.length > 0) {
          if (this.queued.length === 0) nextTurn(this.commitQueued);
          this.queued.unshift(...rest);
        }
        return;
      }
      // BEGIN or COMMIT failed (busy past busy_timeout, disk full): nothing of the batch is written.
      for (const q of batch) q.reject(asError(err));
      return;
    }
    batch.forEach((q, i) => {
      const out = outcomes[i];
      if (out?.ok === true) q.resolve(out.value);
      else q.reject(out?.err ?? new Error('group commit lost a result'));
    });
  };

  isUniqueViolation(err: unknown): boolean {
    return hasCode(err, 'SQLITE_CONSTRAINT_UNIQUE') || hasCode(err, 'SQLITE_CONSTRAINT_PRIMARYKEY');
  }

  isForeignKeyViolation(err: unknown): boolean {
    return hasCode(err, 'SQLITE_CONSTRAINT_FOREIGNKEY');
  }

  close(): Promise<void> {
    // Writes already asked for are committed, not dropped.
    while (this.queued.length > 0) this.commitQueued();
    this.closed = true;
    this.db.close();
    return Promise.resolve();
  }

  private readonly exec = (op: QueryOp | LockOp): unknown => {
    if (op.kind === 'lock') return undefined;
    const stmt = this.prepare(op.stmt.text);
    const params = bindable(op.params);
    if (stmt.reader) {
      const rows = stmt.all(params);
      return { rows, count: rows.length };
    }
    return { rows: [], count: stmt.run(params).changes };
  };

  private prepare(text: string): Database.Statement {
    let stmt = this.statements.get(text);
    if (stmt === undefined) {
      if (this.statements.size >= MAX_CACHED) this.statements.clear();
      stmt = this.db.prepare(sqliteText(text));
      this.statements.set(text, stmt);
    }
    return stmt;
  }
}

/** SQLite has no booleans: they bind as 1 and 0 (params are copied only when they hold one). */
export function bindable(params: Params): Params {
  for (const name in params) {
    if (typeof params[name] !== 'boolean') continue;
    const out: Record<string, SqlValue> = { ...params };
    for (const [k, v] of Object.entries(out)) if (typeof v === 'boolean') out[k] = v ? 1 : 0;
    return out;
  }
  return params;
}

/** SQLite ended the group transaction on the error of the `ran`-th plan; `cause` is that error. */
class BatchLost extends Error {
  constructor(
    override readonly cause: Error,
    readonly ran: number,
  ) {
    super(cause.message);
  }
}

function hasCode(err: unknown, code: string): boolean {
  return err instanceof Error && 'code' in err && err.code === code;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
