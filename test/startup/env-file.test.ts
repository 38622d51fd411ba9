/**
 * The real server entry loads ENV_FILE (default `.env`) at start-up, lets variables already set in
 * the environment win, and writes one start-up line naming the store, Redis and admin mode without
 * any secret.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startupFacts } from '../../src/observability/startup-facts.js';
import { startFalSim } from '../../src/sim/fal-sim.js';

const dir = mkdtempSync(join(tmpdir(), 'fgw-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Absolute paths, so the server can run from another directory (where its `.env` is). */
const TSX = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
const SERVER = resolve('src/server.ts');

function startServer(env: Record<string, string>, cwd = process.cwd()): Promise<{ line: Record<string, unknown>; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', TSX, SERVER], { cwd, env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no start-up line: ${out}`)), 30_000);
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('fal-gateway listening'));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve({ line: JSON.parse(line) as Record<string, unknown>, stop });
      }
    });
    void exited.then(() => reject(new Error(`exited before listening: ${out}`)));
  });
}

it('loads the env file, keeps the variables already set, and logs store, Redis and admin mode', async () => {
  const sim = await startFalSim({ falKey: 'fal_env_file_key' });
  const file = join(dir, 'gateway.env');
  writeFileSync(
    file,
    [
      'FAL_KEY=fal_env_file_key',
      `FAL_RUN_URL=${sim.runUrl}`,
      `FAL_QUEUE_URL=${sim.queueUrl}`,
      `DATABASE_URL=sqlite:${join(dir, 'gw.db')}`,
      'ADMIN_TOKEN=admin-from-the-file-000',
      'METRICS_TOKEN=metrics-from-the-file-000',
    ].join('\n'),
  );
  const gw = await startServer({ ENV_FILE: file, ADMIN_TOKEN: 'admin-from-the-environment' });
  try {
    const url = String(gw.line.url);
    expect(gw.line).toMatchObject({ store: 'sqlite', store_path: join(dir, 'gw.db'), redis: 'not configured', admin: 'enabled (ADMIN_TOKEN)', metrics: 'token (METRICS_TOKEN)', env_file: file });
    expect(JSON.stringify(gw.line)).not.toMatch(/from-the-(file|environment)/);
    const asAdmin = (token: string) => fetch(`${url}/admin/keys`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    // The environment's ADMIN_TOKEN wins over the file's; the file's METRICS_TOKEN applies.
    expect(await asAdmin('admin-from-the-environment')).toBe(200);
    expect(await asAdmin('admin-from-the-file-000')).toBe(401);
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer metrics-from-the-file-000' } })).status).toBe(200);
  } finally {
    await gw.stop();
    await sim.close();
  }
}, 60_000);

it('loads .env from the working directory when ENV_FILE is not set', async () => {
  const cwd = mkdtempSync(join(dir, 'cwd-'));
  writeFileSync(join(cwd, '.env'), `FAL_KEY=fal_dot_env\nDATABASE_URL=sqlite:${join(cwd, 'gw.db')}\n`);
  const gw = await startServer({}, cwd);
  try {
    expect(gw.line).toMatchObject({ store: 'sqlite', store_path: join(cwd, 'gw.db'), admin: 'disabled (ADMIN_TOKEN unset)', env_file: '.env' });
  } finally {
    await gw.stop();
  }
}, 60_000);

it('refuses to start when ENV_FILE names a file that does not exist', async () => {
  await expect(startServer({ ENV_FILE: join(dir, 'missing.env'), FAL_KEY: 'x' })).rejects.toThrow(/ENV_FILE names .*missing\.env/);
}, 60_000);

it('names a Postgres store by host and database, never its password or user', () => {
  const config = loadConfig({ FAL_KEY: 'k', DATABASE_URL: 'postgres://gateway:s3cret-pw@db.internal:5433/fgw', REDIS_URL: 'redis://:redis-pw@cache.internal:6380' });
  const facts = startupFacts(config);
  expect(facts).toMatchObject({ store: 'postgres', store_host: 'db.internal:5433', store_database: 'fgw', redis: 'configured (cache.internal:6380)', admin: 'disabled (ADMIN_TOKEN unset)', metrics: 'open' });
  expect(JSON.stringify(facts)).not.toMatch(/s3cret|redis-pw|gateway:/);
});
