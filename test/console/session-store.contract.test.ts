/** One contract for every SessionStore adapter (SQLite, Postgres; see test/store/store-backends.ts). */
import { expect, it } from 'vitest';
import type { SessionRecord } from '../../src/store/session-store.js';
import { describeBackends } from '../store/store-backends.js';

const session = (idHash: string, over: Partial<SessionRecord> = {}): SessionRecord => ({
  idHash,
  actor: 'bootstrap',
  role: 'admin',
  credentialId: 'bootstrap:abc',
  csrfToken: `csrf-${idHash}`,
  createdAt: '2026-12-02T10:00:00.000Z',
  lastSeenAt: '2026-12-02T10:00:00.000Z',
  expiresAt: '2026-12-02T22:00:00.000Z',
  ...over,
});

describeBackends('SessionStore', (fresh) => {
  it('creates, finds, touches at most up to the throttle, and deletes sessions', async () => {
    const { sessions } = await (await fresh()).open();
    await sessions.create(session('h1', { role: 'viewer', actor: 'admin:adm_1', credentialId: 'adm_1' }));
    expect(await sessions.find('h1')).toEqual(session('h1', { role: 'viewer', actor: 'admin:adm_1', credentialId: 'adm_1' }));
    expect(await sessions.find('nope')).toBeNull();
    await expect(sessions.create(session('h1'))).rejects.toThrow();
    // Written 10:00:00: a touch that only applies to rows last seen by 09:59:30 does nothing.
    await sessions.touch('h1', '2026-12-02T10:00:30.000Z', '2026-12-02T09:59:30.000Z');
    expect((await sessions.find('h1'))?.lastSeenAt).toBe('2026-12-02T10:00:00.000Z');
    await sessions.touch('h1', '2026-12-02T10:01:00.000Z', '2026-12-02T10:00:00.000Z');
    expect((await sessions.find('h1'))?.lastSeenAt).toBe('2026-12-02T10:01:00.000Z');
    expect(await sessions.delete('h1')).toBe(true);
    expect(await sessions.delete('h1')).toBe(false);
    expect(await sessions.find('h1')).toBeNull();
  });

  it('hides the sessions of a revoked named credential', async () => {
    const stores = await (await fresh()).open();
    await stores.admins.create({ id: 'adm_1', name: 'ops', role: 'admin', hash: 'h-adm_1', prefix: 'fgw_ad_abcd', createdAt: '2026-12-01T00:00:00.000Z', revokedAt: null });
    await stores.sessions.create(session('h1', { credentialId: 'adm_1', actor: 'admin:adm_1' }));
    await stores.sessions.create(session('h2'));
    expect((await stores.sessions.find('h1'))?.actor).toBe('admin:adm_1');
    await stores.admins.revoke('adm_1', '2026-12-02T11:00:00.000Z');
    expect(await stores.sessions.find('h1')).toBeNull();
    expect((await stores.sessions.find('h2'))?.actor).toBe('bootstrap');
  });

  it('purges sessions past their end or idle since the cutoff, and expired codes', async () => {
    const { sessions } = await (await fresh()).open();
    await sessions.create(session('ended', { expiresAt: '2026-12-02T11:00:00.000Z', lastSeenAt: '2026-12-02T10:59:00.000Z' }));
    await sessions.create(session('idle', { lastSeenAt: '2026-12-02T10:30:00.000Z' }));
    await sessions.create(session('live', { lastSeenAt: '2026-12-02T10:45:00.000Z' }));
    await sessions.createSignInCode({ hash: 'c-old', createdAt: '2026-12-02T10:00:00.000Z', expiresAt: '2026-12-02T10:15:00.000Z' });
    await sessions.createSignInCode({ hash: 'c-new', createdAt: '2026-12-02T10:50:00.000Z', expiresAt: '2026-12-02T11:05:00.000Z' });
    expect(await sessions.purgeExpired('2026-12-02T11:00:00.000Z', '2026-12-02T10:30:00.000Z')).toBe(3);
    expect(await sessions.find('live')).not.toBeNull();
    expect(await sessions.find('idle')).toBeNull();
    expect(await sessions.find('ended')).toBeNull();
    expect(await sessions.consumeSignInCode('c-old', '2026-12-02T11:00:00.000Z')).toBe(false);
    expect(await sessions.consumeSignInCode('c-new', '2026-12-02T11:00:00.000Z')).toBe(true);
  });

  it('consumes a sign-in code once, and not at or after its expiry', async () => {
    const { sessions } = await (await fresh()).open();
    await sessions.createSignInCode({ hash: 'c1', createdAt: '2026-12-02T10:00:00.000Z', expiresAt: '2026-12-02T10:15:00.000Z' });
    await sessions.createSignInCode({ hash: 'c2', createdAt: '2026-12-02T10:00:00.000Z', expiresAt: '2026-12-02T10:15:00.000Z' });
    await expect(sessions.createSignInCode({ hash: 'c1', createdAt: '2026-12-02T10:00:00.000Z', expiresAt: '2026-12-02T10:15:00.000Z' })).rejects.toThrow();
    const both = await Promise.all([sessions.consumeSignInCode('c1', '2026-12-02T10:14:59.999Z'), sessions.consumeSignInCode('c1', '2026-12-02T10:14:59.999Z')]);
    expect(both.sort()).toEqual([false, true]);
    expect(await sessions.consumeSignInCode('c2', '2026-12-02T10:15:00.000Z')).toBe(false);
    // An expired code is used up by the attempt as well.
    expect(await sessions.consumeSignInCode('c2', '2026-12-02T10:00:00.000Z')).toBe(false);
    expect(await sessions.consumeSignInCode('unknown', '2026-12-02T10:00:00.000Z')).toBe(false);
  });
});
