/** The `fal-gateway` CLI works on the same store as the admin API. */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { hashKey } from '../src/domain/keys.js';
import { openStores } from '../src/store/stores.js';

const run = promisify(execFile);
const db = `sqlite:${join(mkdtempSync(join(tmpdir(), 'fgw-cli-')), 'cli.db')}`;
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { PATH: process.env.PATH, DATABASE_URL: db } });

describe('fal-gateway CLI', () => {
  it('creates, lists and revokes keys, and sets team budgets', async () => {
    const created = await cli('keys', 'create', '--name', 'team-a', '--team', 'research', '--budget-usd', '50', '--rpm', '30', '--daily-usd', '5');
    const key = JSON.parse(created.stdout) as { id: string; key: string; budget_usd: number; budget_daily_usd: number; rpm: number; team: string };
    expect(key).toMatchObject({ budget_usd: 50, budget_daily_usd: 5, rpm: 30, team: 'research' });
    expect(created.stderr).toContain('not shown again');

    const stores = await openStores(db);
    expect((await stores.keys.findActiveByHash(hashKey(key.key), new Date().toISOString()))?.id).toBe(key.id);
    await stores.close();

    const listed = JSON.parse((await cli('keys', 'list', '--json')).stdout) as { id: string }[];
    expect(listed.map((k) => k.id)).toContain(key.id);
    expect(JSON.stringify(listed)).not.toContain(key.key);

    expect((await cli('keys', 'revoke', key.id)).stdout).toContain(`revoked ${key.id}`);
    const after = await openStores(db);
    expect(await after.keys.findActiveByHash(hashKey(key.key), new Date().toISOString())).toBeNull();
    await after.close();

    const team = JSON.parse((await cli('teams', 'set', 'research', '--monthly-usd', '200')).stdout) as { budget_monthly_usd: number };
    expect(team.budget_monthly_usd).toBe(200);
    const usage = await cli('usage', '--csv');
    expect(usage.stdout.split('\n')[0]).toMatch(/^group,requests,spent_usd,reserved_usd,megapixels,billed_units,/); // later columns are added at the end
  }, 60_000);

  it('creates, lists and revokes admin credentials and audits every CLI action as cli:<os user>', async () => {
    const made = await cli('admins', 'create', '--name', 'finance', '--role', 'viewer');
    const admin = JSON.parse(made.stdout) as { id: string; role: string; secret: string };
    expect(admin.role).toBe('viewer');
    expect(admin.secret).toMatch(/^fgw_ad_/);
    expect(made.stderr).toContain('not shown again');
    const listed = (await cli('admins', 'list')).stdout;
    expect(listed).toContain(admin.id);
    expect(listed).not.toContain(admin.secret);
    const key = JSON.parse((await cli('keys', 'create', '--name', 'audited')).stdout) as { id: string; key: string };
    const revoked = await cli('admins', 'revoke', admin.id);
    expect(revoked.stdout).toContain(`revoked ${admin.id}`);
    // One `admin action` line on stderr per action, without the secret.
    const line = JSON.parse(revoked.stderr.split('\n').find((l) => l.includes('"admin action"')) ?? '{}') as { audit?: { action: string; client_ip: unknown } };
    expect(line.audit).toMatchObject({ action: 'admin.revoke', client_ip: null });

    const stores = await openStores(db);
    const entries = await stores.admins.listAudit({ limit: 100 });
    expect(await stores.admins.findActiveByHash(hashKey(admin.secret))).toBeNull();
    await stores.close();
    const mine = entries.filter((e) => e.target === admin.id || e.target === key.id);
    expect(mine.map((e) => e.action)).toEqual(['admin.revoke', 'key.create', 'admin.create']);
    for (const e of mine) {
      expect(e.actor).toBe(`cli:${userInfo().username}`);
      expect(e.clientIp).toBeNull();
    }
    const text = JSON.stringify(entries) + made.stderr + revoked.stderr;
    for (const s of [admin.secret, hashKey(admin.secret), key.key, hashKey(key.key)]) expect(text).not.toContain(s);
  }, 60_000);

  it('sets expires_at and owner, updates them, and rotates a key through the shared service', async () => {
    const created = JSON.parse((await cli('keys', 'create', '--name', 'life', '--owner', 'ana', '--expires-at', '2030-01-01T00:00:00Z')).stdout) as { id: string; key: string };
    expect(created).toMatchObject({ owner: 'ana', expires_at: '2030-01-01T00:00:00.000Z' });
    const updated = JSON.parse((await cli('keys', 'update', created.id, '--expires-at', 'never')).stdout) as { expires_at: unknown };
    expect(updated.expires_at).toBeNull();
    const rotated = JSON.parse((await cli('keys', 'rotate', created.id, '--grace-seconds', '0')).stdout) as { id: string; key: string };
    expect(rotated.id).toBe(created.id);
    const stores = await openStores(db);
    const at = new Date().toISOString();
    expect(await stores.keys.findActiveByHash(hashKey(created.key), at)).toBeNull();
    expect((await stores.keys.findActiveByHash(hashKey(rotated.key), at))?.id).toBe(created.id);
    await stores.close();
    const bad = (await cli('keys', 'update', created.id, '--expires-at', 'soon-ish-later').catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expires_at must be an ISO-8601 time');
  }, 60_000);

  it('rejects bad arguments with usage help and exit code 2', async () => {
    const err = (await cli('keys', 'create', '--name', 'x', '--rpm', 'many').catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('--rpm');
    const help = (await cli('nope').catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(help.code).toBe(2);
    expect(help.stderr).toContain('Usage:');
  }, 60_000);
});
