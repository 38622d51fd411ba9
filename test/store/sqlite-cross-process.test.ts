/**
 * The budget edge across processes (docs/reliability.md R2): two child processes, each with its
 * own connection to one SQLite file, race 100 reservations each against a budget of 10 quotes.
 * BEGIN IMMEDIATE serialises the reserve transactions and busy_timeout makes the loser wait, so
 * exactly 10 are accepted and no SQLITE_BUSY surfaces.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { openStores } from '../../src/store/stores.js';
import { scopeRefs, UNIT } from './ledger-fixtures.js';

const BUDGET = 10 * UNIT;
const SCRIPT = join(import.meta.dirname, 'fixtures', 'reserve-burst.ts');
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A child running reserve-burst.ts, with its stdout as a stream of lines. */
function child(file: string, tag: string): { proc: ChildProcessWithoutNullStreams; next: () => Promise<string> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', SCRIPT, file, tag, '100', String(BUDGET)], { stdio: 'pipe' });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  return {
    proc,
    next: async () => {
      const line = await lines.next();
      if (line.done === true) throw new Error(`child ${tag} ended early`);
      return String(line.value);
    },
  };
}

describe('SQLite ledger across processes', () => {
  it('accepts exactly 10 of 2 × 100 reservations raced by two processes on one file, with no busy errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fgw-xproc-'));
    dirs.push(dir);
    const file = join(dir, 'gateway.db');
    // Migrate first, so the children race on reservations only.
    await (await openStores(`sqlite:${file}`)).close();

    const children = [child(file, 'p1'), child(file, 'p2')];
    try {
      expect(await Promise.all(children.map((c) => c.next()))).toEqual(['ready', 'ready']);
      const startAt = Date.now() + 200;
      for (const c of children) c.proc.stdin.write(`${startAt}\n`);
      const outcomes = (await Promise.all(children.map((c) => c.next()))).flatMap((line) => JSON.parse(line) as string[]);

      expect(outcomes).toHaveLength(200);
      expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(10);
      expect(outcomes.filter((o) => o === 'budget')).toHaveLength(190);
      expect(outcomes.filter((o) => o.startsWith('error'))).toEqual([]);
    } finally {
      for (const c of children) c.proc.kill();
    }

    const stores = await openStores(`sqlite:${file}`);
    expect(await stores.ledger.counterTotals(scopeRefs('key:key_a'))).toEqual(scopeRefs('key:key_a').map(() => ({ spentMicro: 0, reservedMicro: BUDGET })));
    expect(await stores.ledger.pending(1000)).toHaveLength(10);
    await stores.close();
  });
});
