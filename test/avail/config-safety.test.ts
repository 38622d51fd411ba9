/**
 * Configuration and files that must not leak or lose data (issue #9 item 12): an empty SQLite path
 * is refused instead of silently running in memory, configuration errors never print a database
 * password, and the SQLite database (with its -wal and -shm) is created owner-only.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { openStores } from '../../src/store/stores.js';

const problemsOf = (env: Record<string, string>): string => {
  try {
    loadConfig({ FAL_KEY: 'k', ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return '';
};

describe('configuration safety', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fgw-cfg-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses DATABASE_URL=sqlite: with an empty path, and still accepts sqlite::memory: and a path', () => {
    expect(problemsOf({ DATABASE_URL: 'sqlite:' })).toMatch(/DATABASE_URL=sqlite: needs a file path/);
    expect(problemsOf({ DATABASE_URL: 'sqlite::memory:' })).toBe('');
    expect(problemsOf({ DATABASE_URL: 'sqlite:./data/x.db' })).toBe('');
  });

  it('never prints a password from a URL in configuration errors', () => {
    for (const [name, value] of [
      ['DATABASE_URL', 'mysql://admin:hunter2-secret@db.internal/gw'],
      ['DATABASE_URL', 'postgres:/admin:hunter2-secret@db.internal/gw'],
      ['FAL_RUN_URL', 'https://admin:hunter2-secret@fal.example/x?y=1'],
      ['DATABASE_URL', 'postgress://gw:hunter2/s?e#c@db:5432/gw'],
      ['DATABASE_URL', 'postgress://gw:hunter2@x@db:5432/gw'],
    ] as const) {
      const message = problemsOf({ [name]: value });
      expect(message, value).toContain(name);
      expect(message, value).not.toContain('hunter2');
    }
  });

  it('refuses FAILPOINT (crash injection) outside the crash tests', () => {
    expect(problemsOf({ FAILPOINT: 'after-upstream' })).toContain('FAILPOINT');
    expect(problemsOf({ FAILPOINT: 'after-upstream', NODE_ENV: 'test' })).toBe('');
  });

  it('creates the SQLite database and its -wal and -shm files readable by the owner only', async () => {
    const path = join(dir, 'sub', 'gw.db');
    const stores = await openStores(`sqlite:${path}`);
    try {
      await stores.keys.list();
      for (const f of [path, `${path}-wal`, `${path}-shm`]) expect((statSync(f).mode & 0o777).toString(8), f).toBe('600');
      expect((statSync(join(dir, 'sub')).mode & 0o777).toString(8)).toBe('700');
    } finally {
      await stores.close();
    }
  });
});
