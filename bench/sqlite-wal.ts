/**
 * What a SQLite commit and a WAL checkpoint cost on this machine's disk, with the settings the
 * gateway uses (WAL, synchronous=NORMAL) and a table indexed like the ledger: the figures behind
 * the group commit (src/store/sql/sqlite-db.ts, docs/store.md) and behind leaving checkpoints
 * inline (BENCHMARKS.md). Runs in a temp directory under the system tmp, or under --dir.
 *
 *   node --import tsx bench/sqlite-wal.ts [--dir=/path] [--batches=40] [--rounds=40]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const dir = mkdtempSync(join(arg('dir', tmpdir()), 'fgw-wal-'));
const batches = Number(arg('batches', '40'));
const rounds = Number(arg('rounds', '40'));

try {
  const db = new Database(join(dir, 'wal.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // Checkpoints only where this script asks for them, so each is timed on its own.
  db.pragma('wal_autocheckpoint = 0');
  db.exec(`CREATE TABLE t (id TEXT PRIMARY KEY, key_id TEXT, team TEXT, state TEXT, created_at TEXT);
    CREATE INDEX t_key ON t (key_id, created_at); CREATE INDEX t_team ON t (team, created_at);
    CREATE INDEX t_created ON t (created_at, id); CREATE INDEX t_open ON t (created_at, id) WHERE state = 'reserved'`);
  const insert = db.prepare("INSERT INTO t VALUES (?, 'key', 'team', 'reserved', ?)");
  let n = 0;
  const one = () => insert.run(`row-${String(n++).padStart(12, '0')}`, new Date().toISOString());
  const thirty = db.transaction(() => {
    for (let i = 0; i < 30; i++) one();
  });
  const alone = db.transaction(one);
  const us = (since: bigint) => Number(process.hrtime.bigint() - since) / 1000;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

  const grouped: number[] = [];
  const single: number[] = [];
  const checkpoints: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let b = 0; b < batches; b++) {
      let t = process.hrtime.bigint();
      thirty.immediate();
      grouped.push(us(t));
      t = process.hrtime.bigint();
      alone.immediate();
      single.push(us(t));
    }
    const t = process.hrtime.bigint();
    db.pragma('wal_checkpoint(PASSIVE)');
    checkpoints.push(us(t));
  }
  db.close();
  const out = {
    commit_of_30_inserts_us_median: Math.round(median(grouped)),
    commit_of_1_insert_us_median: Math.round(median(single)),
    checkpoint_us_median: Math.round(median(checkpoints)),
    checkpoint_us_max: Math.round(Math.max(...checkpoints)),
    inserts_between_checkpoints: batches * 31,
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
