/**
 * `npm run demo` and the CLI agree on the database with nothing configured: the demo (run from a
 * fresh working directory, on free ports) creates its key in the default ./data/gateway.db, and
 * `fal-gateway keys list` from the same directory shows it, as the demo's own hint says.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const ROOT = resolve(import.meta.dirname, '../..');
const cwd = mkdtempSync(join(tmpdir(), 'fgw-demo-'));
let demo: ChildProcess | undefined;

afterAll(async () => {
  if (demo && demo.exitCode === null) {
    const exited = new Promise((done) => demo?.once('exit', done));
    demo.kill('SIGKILL');
    await exited;
  }
  rmSync(cwd, { recursive: true, force: true });
});

/** Starts the demo and resolves with its banner once it names the demo key. */
function startDemo(): Promise<string> {
  const child = spawn(process.execPath, ['--import', pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, join(ROOT, 'src/demo.ts')], {
    cwd,
    env: { PATH: process.env.PATH ?? '', PORT: '0', SIM_RUN_PORT: '0', SIM_QUEUE_PORT: '0' },
  });
  demo = child;
  let out = '';
  let err = '';
  return new Promise((done, fail) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Press Ctrl+C')) done(out);
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => fail(new Error(`demo exited ${String(code)} before it was ready: ${err}`)));
  });
}

describe('npm run demo, then fal-gateway keys list', () => {
  it('lists the demo key from the default database, with the command the demo prints', async () => {
    const banner = await startDemo();
    const id = /demo key\s+(key_\w+)/.exec(banner)?.[1];
    expect(id).toBeDefined();
    expect(banner).toContain('\nnpx fal-gateway keys list\n');
    expect(banner).toContain('sqlite:./data/gateway.db');
    const listed = await runCli({}, ['keys', 'list'], cwd);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${id ?? 'missing'}\\s+demo\\s`, 'm'));
  }, 120_000);
});
