/** One contract for every AdminStore adapter (SQLite, Postgres; see store-backends.ts). */
import { expect, it } from 'vitest';
import type { AdminRecord, AuditEntry } from '../../src/store/admin-store.js';
import { describeBackends } from './store-backends.js';

const admin = (id: string, over: Partial<AdminRecord> = {}): AdminRecord => ({ id, name: `n-${id}`, role: 'viewer', hash: `h-${id}`, prefix: 'fgw_ad_abcd', createdAt: '2026-01-01T00:00:00.000Z', revokedAt: null, ...over });
const entry = (id: string, at: string, over: Partial<AuditEntry> = {}): AuditEntry => ({ id, at, actor: 'bootstrap', action: 'key.create', target: 'key_1', before: null, after: { name: 'x', budget_usd: 1.5 }, clientIp: '127.0.0.1', ...over });

describeBackends('AdminStore', (fresh) => {
  const make = async () => (await (await fresh()).open()).admins;

  it('creates, finds by hash, lists and revokes credentials once', async () => {
    const admins = await make();
    expect(await admins.create(admin('adm_1', { role: 'admin' }))).toEqual(admin('adm_1', { role: 'admin' }));
    await admins.create(admin('adm_2', { createdAt: '2026-01-02T00:00:00.000Z' }));
    expect((await admins.findActiveByHash('h-adm_2'))?.id).toBe('adm_2');
    expect(await admins.findActiveByHash('nope')).toBeNull();
    expect((await admins.list()).map((a) => a.id)).toEqual(['adm_1', 'adm_2']);
    expect((await admins.revoke('adm_2', '2026-01-03T00:00:00.000Z'))?.revokedAt).toBe('2026-01-03T00:00:00.000Z');
    expect((await admins.revoke('adm_2', '2026-01-04T00:00:00.000Z'))?.revokedAt).toBe('2026-01-03T00:00:00.000Z');
    expect(await admins.findActiveByHash('h-adm_2')).toBeNull();
    expect(await admins.revoke('adm_9', '2026-01-03T00:00:00.000Z')).toBeNull();
  });

  it('refuses a second credential with the same hash', async () => {
    const admins = await make();
    await admins.create(admin('adm_1'));
    await expect(admins.create(admin('adm_2', { hash: 'h-adm_1' }))).rejects.toThrow();
  });

  it('lists audit entries newest first, filtered and paged by (at, id)', async () => {
    const admins = await make();
    await admins.appendAudit(entry('a1', '2026-01-01T00:00:00.000Z', { before: null, after: null, clientIp: null, actor: 'cli:ops', target: null }));
    await admins.appendAudit(entry('a2', '2026-01-02T00:00:00.000Z', { action: 'team.set', target: 'research' }));
    await admins.appendAudit(entry('a3', '2026-01-02T00:00:00.000Z', { before: { rpm: null }, after: { rpm: 5 } }));
    await admins.appendAudit(entry('a4', '2026-01-03T00:00:00.000Z', { actor: 'admin:adm_1' }));
    expect((await admins.listAudit({ limit: 10 })).map((e) => e.id)).toEqual(['a4', 'a3', 'a2', 'a1']);
    expect(await admins.listAudit({ limit: 1, actor: 'cli:ops' })).toEqual([entry('a1', '2026-01-01T00:00:00.000Z', { before: null, after: null, clientIp: null, actor: 'cli:ops', target: null })]);
    expect((await admins.listAudit({ limit: 10, action: 'team.set' })).map((e) => e.id)).toEqual(['a2']);
    expect((await admins.listAudit({ limit: 10, target: 'key_1', from: '2026-01-02T00:00:00.000Z', to: '2026-01-02T23:59:59.000Z' })).map((e) => e.id)).toEqual(['a3']);
    expect((await admins.listAudit({ limit: 10, before: { at: '2026-01-02T00:00:00.000Z', id: 'a3' } })).map((e) => e.id)).toEqual(['a2', 'a1']);
    expect((await admins.listAudit({ limit: 1, actor: 'bootstrap' }))[0]?.after).toEqual({ rpm: 5 });
  });
});
