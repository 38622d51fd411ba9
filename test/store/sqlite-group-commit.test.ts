/**
 * SQLite's group commit (src/store/sql/sqlite-db.ts): write transactions asked for in one turn of
 * the event loop share one COMMIT, each in its own savepoint. What must hold: a plan that throws
 * takes back only its own writes; a promise resolves only once its writes are committed (another
 * connection sees them); writes queued when the database closes are committed, not dropped; and
 * grouping really happens (fewer WAL frames than one commit per write).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteDb } from '../../src/store/sql/sqlite-db.js';
import { first, query, sql, type Plan, type SqlDb } from '../../src/store/sql/sql-plan.js';

const CREATE = sql('CREATE TABLE IF NOT EXISTS gc_test (id INTEGER PRIMARY KEY, note TEXT NOT NULL)');
const INSERT = sql('INSERT INTO gc_test (id, note) VALUES (@id, @note)');
const COUNT = sql('SELECT COUNT(*) AS n FROM gc_test');

const dirs: string[] = [];
const open: SqlDb[] = [];

afterEach(async () => {
  for (const db of open.splice(0)) await db.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function freshDb(): Promise<{ db: SqlDb; path: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'fgw-gc-'));
  dirs.push(dir);
  const path = join(dir, 'gateway.db');
  const db = openSqliteDb(path);
  open.push(db);
  await db.run(query(CREATE));
  return { db, path };
}

function* insert(id: number, note = 'x'): Plan<number> {
  return (yield* query(INSERT, { id, note })).count;
}

function* insertThenFail(id: number): Plan<number> {
  yield* query(INSERT, { id, note: 'rolled back' });
  throw new Error('plan refused after writing');
}

function rowsSeenByAnotherConnection(path: string): number {
  const other = new Database(path, { readonly: true });
  try {
    return (other.prepare('SELECT COUNT(*) AS n FROM gc_test').get() as { n: number }).n;
  } finally {
    other.close();
  }
}

/** Frames in the WAL file: each commit appends one frame per page it changed. */
function walFrames(path: string): number {
  const size = statSync(`${path}-wal`).size;
  return size === 0 ? 0 : (size - 32) / (4096 + 24);
}

describe('SQLite group commit', () => {
  it('rolls back only the plan that threw; the others of its turn commit', async () => {
    const { db, path } = await freshDb();
    const results = await Promise.allSettled([db.transaction(insert(1)), db.transaction(insertThenFail(2)), db.transaction(insert(3))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toHaveProperty('message', 'plan refused after writing');
    const ids = (await db.run(query<{ id: number }>(sql('SELECT id FROM gc_test ORDER BY id')))).rows.map((r) => r.id);
    expect(ids).toEqual([1, 3]);
    expect(rowsSeenByAnotherConnection(path)).toBe(2);
  });

  it('rejects a plan that breaks a constraint without failing its neighbours', async () => {
    const { db } = await freshDb();
    await db.transaction(insert(7));
    const results = await Promise.allSettled([db.write(insert(8)), db.write(insert(7)), db.write(insert(9))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(db.isUniqueViolation((results[1] as PromiseRejectedResult).reason)).toBe(true);
    expect((await db.run(first<{ n: number }>(COUNT)))?.n).toBe(3);
  });

  it('resolves each write only after its COMMIT: another connection already sees it', async () => {
    const { db, path } = await freshDb();
    const seen: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db.transaction(insert(i + 1)).then(() => {
          seen.push(rowsSeenByAnotherConnection(path));
        }),
      ),
    );
    // All 20 were asked for in one turn and committed together: every one resolves seeing all 20.
    expect(seen).toEqual(Array.from({ length: 20 }, () => 20));
  });

  it('runs the plans of a turn in the order they were asked for, each seeing the writes before it', async () => {
    const { db } = await freshDb();
    function* countThenInsert(id: number): Plan<number> {
      const before = (yield* first<{ n: number }>(COUNT))?.n ?? -1;
      yield* query(INSERT, { id, note: 'ordered' });
      return before;
    }
    const before = await Promise.all([1, 2, 3, 4].map((id) => db.transaction(countThenInsert(id))));
    expect(before).toEqual([0, 1, 2, 3]);
  });

  it('when SQLite itself ends the transaction on a plan\'s error, rejects that plan and the ones before it with that error and runs the later ones', async () => {
    const { db, path } = await freshDb();
    await db.transaction(insert(5));
    // OR ROLLBACK: a conflict makes SQLite roll back the whole transaction, not just the statement.
    function* rollsBackEverything(): Plan<number> {
      return (yield* query(sql("INSERT OR ROLLBACK INTO gc_test (id, note) VALUES (5, 'again')"))).count;
    }
    const results = await Promise.allSettled([db.write(insert(1)), db.write(rollsBackEverything()), db.write(insert(3)), db.write(insert(4))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled', 'fulfilled']);
    const [lost, culprit] = results.slice(0, 2) as [PromiseRejectedResult, PromiseRejectedResult];
    expect(db.isUniqueViolation(culprit.reason)).toBe(true);
    // The first plan's write went with the transaction: it is told the real cause, not "no transaction".
    expect(lost.reason).toBe(culprit.reason);
    const ids = (await db.run(query<{ id: number }>(sql('SELECT id FROM gc_test ORDER BY id')))).rows.map((r) => r.id);
    expect(ids).toEqual([3, 4, 5]);
    expect(rowsSeenByAnotherConnection(path)).toBe(3);
  });

  it('commits a turn of more writes than one batch holds, every one of them', async () => {
    const { db, path } = await freshDb();
    const all = await Promise.all(Array.from({ length: 600 }, (_, i) => db.write(insert(i + 1))));
    expect(all.every((n) => n === 1)).toBe(true);
    expect(rowsSeenByAnotherConnection(path)).toBe(600);
  });

  it('commits the writes still queued when the database closes', async () => {
    const { db, path } = await freshDb();
    const pending = [db.write(insert(1)), db.transaction(insert(2))];
    await db.close();
    await expect(Promise.all(pending)).resolves.toEqual([1, 1]);
    expect(rowsSeenByAnotherConnection(path)).toBe(2);
    await expect(db.transaction(insert(3))).rejects.toThrow(/closed/);
  });

  it('writes fewer WAL frames for a burst of writes than one commit per write would', async () => {
    const grouped = await freshDb();
    const framesBefore = walFrames(grouped.path);
    await Promise.all(Array.from({ length: 50 }, (_, i) => grouped.db.write(insert(i + 1))));
    const groupedFrames = walFrames(grouped.path) - framesBefore;

    const oneByOne = await freshDb();
    const oneByOneBefore = walFrames(oneByOne.path);
    for (let i = 0; i < 50; i++) await oneByOne.db.write(insert(i + 1));
    const oneByOneFrames = walFrames(oneByOne.path) - oneByOneBefore;

    expect(oneByOneFrames).toBeGreaterThanOrEqual(50);
    expect(groupedFrames).toBeLessThan(5);
  });
});
