import { describe, expect, it } from 'vitest';
import { generateKeyId, hashKey } from '../../src/domain/keys.js';
import { KeyCache } from '../../src/pipeline/key-cache.js';
import { memoryStores } from '../../src/store/stores.js';

async function setup(ttlMs: number) {
  const store = memoryStores().keys;
  const id = generateKeyId();
  await store.create({ id, name: 'k', team: null, kind: 'secret', hash: hashKey('secret'), prefix: 'fgw_sk_abcd', budgetMicroUsd: null, budgetDailyMicroUsd: null, budgetMonthlyMicroUsd: null, rpm: null, maxConcurrency: null, allowedWebhookUrls: [], allowedOrigins: [], policy: null, createdAt: new Date().toISOString() });
  let t = 0;
  const cache = new KeyCache(store, ttlMs, () => t);
  return { store, id, cache, advance: (ms: number) => (t += ms) };
}

describe('KeyCache', () => {
  it('serves a revocation made elsewhere after at most the TTL, and at once after clear()', async () => {
    const { store, id, cache, advance } = await setup(2000);
    expect((await cache.activeByHash(hashKey('secret')))?.id).toBe(id);
    await store.revoke(id, new Date().toISOString());
    advance(1999);
    expect((await cache.activeByHash(hashKey('secret')))?.id).toBe(id);
    advance(1);
    expect(await cache.activeByHash(hashKey('secret'))).toBeNull();
  });

  it('forgets everything on clear()', async () => {
    const { store, id, cache } = await setup(60_000);
    expect(await cache.byKeyId(id)).not.toBeNull();
    await store.revoke(id, new Date().toISOString());
    cache.clear();
    expect((await cache.byKeyId(id))?.revokedAt).not.toBeNull();
    expect(await cache.activeByHash(hashKey('secret'))).toBeNull();
  });

  it('does not cache with a TTL of 0', async () => {
    const { store, id, cache } = await setup(0);
    expect(await cache.activeByHash(hashKey('secret'))).not.toBeNull();
    await store.revoke(id, new Date().toISOString());
    expect(await cache.activeByHash(hashKey('secret'))).toBeNull();
  });
});
