/**
 * One contract for every KeyStore adapter (SQLite, Postgres; see store-backends.ts). An
 * adapter that needs a service (Postgres) runs when TEST_DATABASE_URL is set and says so when skipped.
 */
import { expect, it } from 'vitest';
import { generateKeyId, generateSecretKey, hashKey } from '../../src/domain/keys.js';
import type { KeyPolicy } from '../../src/domain/policy.js';
import type { NewKey } from '../../src/store/key-store.js';
import { describeBackends } from './store-backends.js';

function newKey(over: Partial<NewKey> = {}): NewKey & { secret: string } {
  const secret = generateSecretKey();
  return {
    secret,
    id: generateKeyId(),
    name: 'k',
    team: null,
    kind: 'secret',
    hash: hashKey(secret),
    prefix: secret.slice(0, 11),
    budgetMicroUsd: null,
    budgetDailyMicroUsd: null,
    budgetMonthlyMicroUsd: null,
    rpm: null,
    maxConcurrency: null,
    allowedWebhookUrls: [],
    allowedOrigins: [],
    policy: null,
    createdAt: new Date().toISOString(),
    ...over,
  };
}

/** Every KeyPolicy field set. */
const FULL_POLICY: KeyPolicy = {
  maxMegapixelsPerImage: 1.5,
  maxNumImages: 2,
  allowedImageSizes: ['square_hd', 'custom'],
  requireSafetyChecker: true,
  maxPromptLength: 500,
};

describeBackends('KeyStore', (fresh) => {
  const make = async () => (await (await fresh()).open()).keys;

  it('finds an active key by hash and never returns the hash', async () => {
    const store = await make();
    const k = newKey({ name: 'a', team: 't', budgetMicroUsd: 5_000_000, rpm: 30, maxConcurrency: 2, allowedWebhookUrls: ['https://hooks.example/'] });
    const { secret, ...row } = k;
    await store.create(row);
    const found = await store.findActiveByHash(hashKey(secret), new Date().toISOString());
    expect(found).toMatchObject({ id: k.id, name: 'a', team: 't', budgetMicroUsd: 5_000_000, rpm: 30, maxConcurrency: 2, allowedWebhookUrls: ['https://hooks.example/'], revokedAt: null });
    expect(found?.createdAt).toBe(k.createdAt);
    expect(JSON.stringify(found)).not.toContain(k.hash);
    expect(await store.findActiveByHash(hashKey('other'), new Date().toISOString())).toBeNull();
  });

  it('refuses a duplicate hash', async () => {
    const store = await make();
    const { secret: _s, ...row } = newKey();
    await store.create(row);
    await expect(store.create({ ...row, id: generateKeyId() })).rejects.toThrow();
  });

  it('revocation hides the key from lookups, keeps the first revocation time', async () => {
    const store = await make();
    const { secret, ...row } = newKey();
    await store.create(row);
    const r1 = await store.revoke(row.id, '2026-01-01T00:00:00.000Z');
    const r2 = await store.revoke(row.id, '2026-02-01T00:00:00.000Z');
    expect(r1?.revokedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(r2?.revokedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(await store.findActiveByHash(hashKey(secret), new Date().toISOString())).toBeNull();
    expect(await store.revoke('key_missing', '2026-01-01T00:00:00.000Z')).toBeNull();
  });

  it('updates only the fields given, and lists in creation order', async () => {
    const store = await make();
    const a = newKey({ name: 'a', createdAt: '2026-01-01T00:00:00.000Z', rpm: 5 });
    const b = newKey({ name: 'b', createdAt: '2026-01-02T00:00:00.000Z' });
    for (const { secret: _s, ...row } of [b, a]) await store.create(row);
    const updated = await store.update(a.id, { team: 'x', budgetMicroUsd: 1, allowedWebhookUrls: ['https://h.example/'] });
    expect(updated).toMatchObject({ name: 'a', team: 'x', rpm: 5, budgetMicroUsd: 1, allowedWebhookUrls: ['https://h.example/'] });
    expect(await store.update('key_missing', { name: 'z' })).toBeNull();
    expect((await store.list()).map((k) => k.name)).toEqual(['a', 'b']);
  });

  it('stores daily and monthly budgets alongside the lifetime one, and patches each on its own', async () => {
    const store = await make();
    const { secret: _s, ...row } = newKey({ budgetMicroUsd: 50_000_000, budgetDailyMicroUsd: 2_000_000, budgetMonthlyMicroUsd: 30_000_000 });
    expect(await store.create(row)).toMatchObject({ budgetMicroUsd: 50_000_000, budgetDailyMicroUsd: 2_000_000, budgetMonthlyMicroUsd: 30_000_000 });
    expect(await store.update(row.id, { budgetDailyMicroUsd: null })).toMatchObject({ budgetMicroUsd: 50_000_000, budgetDailyMicroUsd: null, budgetMonthlyMicroUsd: 30_000_000 });
    expect(await store.update(row.id, { budgetMonthlyMicroUsd: 5_000_000_000_000 })).toMatchObject({ budgetDailyMicroUsd: null, budgetMonthlyMicroUsd: 5_000_000_000_000 });
    expect((await store.list()).find((k) => k.id === row.id)).toMatchObject({ budgetDailyMicroUsd: null, budgetMonthlyMicroUsd: 5_000_000_000_000 });
  });

  it('keeps micro-USD budgets beyond 32 bits as exact numbers', async () => {
    const store = await make();
    const big = Number.MAX_SAFE_INTEGER;
    const { secret: _s, ...row } = newKey({ budgetMicroUsd: 5_000_000_000_000 });
    expect((await store.create(row)).budgetMicroUsd).toBe(5_000_000_000_000);
    const updated = await store.update(row.id, { budgetMicroUsd: big });
    expect(updated?.budgetMicroUsd).toBe(big);
    expect(typeof (await store.get(row.id))?.budgetMicroUsd).toBe('number');
  });

  it('sets nullable fields back to null and returns an unchanged key for an empty patch', async () => {
    const store = await make();
    const { secret: _s, ...row } = newKey({ team: 't', rpm: 3, budgetMicroUsd: 10 });
    await store.create(row);
    expect(await store.update(row.id, { team: null, rpm: null, budgetMicroUsd: null })).toMatchObject({ team: null, rpm: null, budgetMicroUsd: null });
    expect(await store.update(row.id, {})).toEqual(await store.get(row.id));
  });

  it('a second handle on the same database sees the key', async () => {
    const db = await fresh();
    const [first, second] = [await db.open(), await db.open()];
    const { secret, ...row } = newKey();
    await first.keys.create(row);
    expect((await second.keys.findActiveByHash(hashKey(secret), new Date().toISOString()))?.id).toBe(row.id);
  });

  it('stores a secret key with no origins and no policy by default', async () => {
    const store = await make();
    const { secret, ...row } = newKey();
    const created = await store.create(row);
    expect(created).toMatchObject({ kind: 'secret', allowedOrigins: [], policy: null });
    expect(await store.findActiveByHash(hashKey(secret), new Date().toISOString())).toEqual(created);
  });

  it('round-trips a publishable key with allowed origins and a full policy', async () => {
    const store = await make();
    const { secret, ...row } = newKey({ kind: 'publishable', allowedOrigins: ['https://app.example', 'http://localhost:5173'], policy: FULL_POLICY });
    const created = await store.create(row);
    expect(created).toMatchObject({ kind: 'publishable', allowedOrigins: ['https://app.example', 'http://localhost:5173'], policy: FULL_POLICY });
    expect(await store.get(row.id)).toEqual(created);
    expect(await store.findActiveByHash(hashKey(secret), new Date().toISOString())).toEqual(created);
    expect((await store.list()).find((k) => k.id === row.id)).toEqual(created);
    const { secret: _p, ...partial } = newKey({ policy: { maxNumImages: 1 } });
    expect((await store.create(partial)).policy).toEqual({ maxNumImages: 1 });
  });

  it('patches allowed origins and the policy on their own, and clears the policy with null', async () => {
    const store = await make();
    const { secret: _s, ...row } = newKey({ kind: 'publishable', rpm: 9, allowedOrigins: ['https://a.example'] });
    await store.create(row);
    expect(await store.update(row.id, { policy: FULL_POLICY })).toMatchObject({ kind: 'publishable', rpm: 9, allowedOrigins: ['https://a.example'], policy: FULL_POLICY });
    expect(await store.update(row.id, { allowedOrigins: ['https://b.example', 'https://c.example'] })).toMatchObject({
      allowedOrigins: ['https://b.example', 'https://c.example'],
      policy: FULL_POLICY,
    });
    expect(await store.update(row.id, { policy: { requireSafetyChecker: false } })).toMatchObject({ policy: { requireSafetyChecker: false } });
    expect(await store.update(row.id, { policy: null, allowedOrigins: [] })).toMatchObject({ allowedOrigins: [], policy: null });
    expect(await store.get(row.id)).toMatchObject({ kind: 'publishable', rpm: 9, allowedOrigins: [], policy: null });
  });

  it('hands out copies: changing a returned key does not change the stored one', async () => {
    const store = await make();
    const { secret: _s, ...row } = newKey({ allowedOrigins: ['https://a.example'], policy: { allowedImageSizes: ['square'] } });
    const created = await store.create(row);
    created.allowedOrigins.push('https://evil.example');
    created.policy?.allowedImageSizes?.push('custom');
    row.allowedOrigins.push('https://other.example');
    expect(await store.get(row.id)).toMatchObject({ allowedOrigins: ['https://a.example'], policy: { allowedImageSizes: ['square'] } });
  });
});
