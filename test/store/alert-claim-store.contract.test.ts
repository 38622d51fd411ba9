/**
 * One contract for every AlertClaimStore adapter (SQLite, Postgres): a claim is won once per
 * scope, bucket and threshold, also when two handles on one database (two instances) race for it.
 */
import { expect, it } from 'vitest';
import { describeBackends } from './store-backends.js';

const AT = '2026-01-01T00:00:00.000Z';

describeBackends('AlertClaimStore', (fresh) => {
  it('wins a claim once; another threshold, bucket or scope is a claim of its own', async () => {
    const { alertClaims } = await (await fresh()).open();
    const c = { scope: 'key:k1', bucket: 'all', threshold: 50, claimedAt: AT };
    expect(await alertClaims.claim(c)).toBe(true);
    expect(await alertClaims.claim(c)).toBe(false);
    expect(await alertClaims.claim({ ...c, threshold: 80 })).toBe(true);
    expect(await alertClaims.claim({ ...c, bucket: '2026-01-01' })).toBe(true);
    expect(await alertClaims.claim({ ...c, scope: 'team:t1' })).toBe(true);
  });

  it('gives a raced claim to exactly one of two handles on one database', async () => {
    const db = await fresh();
    const [a, b] = [await db.open(), await db.open()];
    for (let threshold = 1; threshold <= 20; threshold++) {
      const c = { scope: 'team:race', bucket: '2026-01', threshold, claimedAt: AT };
      const won = await Promise.all([a.alertClaims.claim(c), b.alertClaims.claim(c), a.alertClaims.claim(c), b.alertClaims.claim(c)]);
      expect(won.filter(Boolean)).toHaveLength(1);
    }
  });
});
