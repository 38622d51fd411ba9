/** The `fal-gateway` CLI works on the same store as the admin API. */
import { userInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { hashKey } from '../../src/domain/keys.js';
import { openStores } from '../../src/store/stores.js';
import { cliOn } from './run-cli.js';

const { databaseUrl: db, ok: cli, run } = cliOn();

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
    const bad = await run('keys', 'update', created.id, '--expires-at', 'soon-ish-later');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expires_at must be an ISO-8601 time');
  }, 60_000);


  it('writes one audit entry per change as cli:<os user>, and none for the commands that only read', async () => {
    const key = JSON.parse((await cli('keys', 'create', '--name', 'trail', '--team', 'trail-team')).stdout) as { id: string; key: string };
    await cli('keys', 'update', key.id, '--rpm', '12', '--daily-usd', '3');
    const rotated = JSON.parse((await cli('keys', 'rotate', key.id, '--grace-seconds', '0')).stdout) as { key: string };
    await cli('teams', 'set', 'trail-team', '--budget-usd', '9');
    const stores = await openStores(db);
    const before = (await stores.admins.listAudit({ limit: 1000 })).length;
    for (const args of [['keys', 'list'], ['keys', 'list', '--json'], ['keys', 'show', key.id], ['teams', 'list'], ['admins', 'list'], ['usage', '--group-by', 'key']]) await cli(...args);
    expect((await stores.admins.listAudit({ limit: 1000 })).length).toBe(before);
    const cleared = JSON.parse((await cli('keys', 'update', key.id, '--daily-usd', 'none', '--rpm', 'none')).stdout) as Record<string, unknown>;
    expect(cleared).toMatchObject({ budget_daily_usd: null, rpm: null, team: 'trail-team' });
    await cli('keys', 'revoke', key.id);
    const mine = (await stores.admins.listAudit({ limit: 1000 })).filter((e) => e.target === key.id || e.target === 'trail-team');
    await stores.close();
    expect(mine.map((e) => e.action)).toEqual(['key.revoke', 'key.update', 'team.set', 'key.rotate', 'key.update', 'key.create']);
    for (const e of mine) expect([e.actor, e.clientIp]).toEqual([`cli:${userInfo().username}`, null]);
    expect(mine.filter((e) => e.action === 'key.update').map((e) => e.after)).toEqual([expect.objectContaining({ rpm: null, budget_daily_usd: null }), expect.objectContaining({ rpm: 12, budget_daily_usd: 3 })]);
    const text = JSON.stringify(mine);
    for (const s of [key.key, rotated.key, hashKey(key.key), hashKey(rotated.key)]) expect(text).not.toContain(s);
  }, 120_000);
});
