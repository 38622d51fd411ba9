/**
 * Runs the real `fal-gateway` entry (src/cli.ts under tsx) as a child process, as an operator
 * would: its own environment (no .env read), and the exit status, stdout and stderr as they are.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const ROOT = resolve(import.meta.dirname, '../..');
/** Absolute, so the CLI also runs from another working directory (the demo test). */
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
export const CLI_ENTRY = join(ROOT, 'src/cli.ts');

export function runCli(env: Record<string, string>, args: string[], cwd = ROOT): Promise<CliResult> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', TSX, CLI_ENTRY, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ENV_FILE: 'off', ...env } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      done({ code, stdout, stderr });
    });
  });
}

/** A CLI bound to one database (a fresh SQLite file unless `databaseUrl` is given). */
export function cliOn(databaseUrl = `sqlite:${join(mkdtempSync(join(tmpdir(), 'fgw-cli-')), 'cli.db')}`, env: Record<string, string> = {}) {
  return {
    databaseUrl,
    run: (...args: string[]) => runCli({ DATABASE_URL: databaseUrl, ...env }, args),
    /** Runs and insists on exit 0, so a failing step shows its stderr. */
    ok: async (...args: string[]): Promise<CliResult> => {
      const r = await runCli({ DATABASE_URL: databaseUrl, ...env }, args);
      if (r.code !== 0) throw new Error(`fal-gateway ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return r;
    },
  };
}

/** The `admin action` audit lines a command wrote to stderr. */
export function auditLines(stderr: string): { action: string; actor: string; target: string | null; client_ip: unknown }[] {
  return stderr
    .split('\n')
    .filter((l) => l.includes('"admin action"'))
    .map((l) => (JSON.parse(l) as { audit: { action: string; actor: string; target: string | null; client_ip: unknown } }).audit);
}
