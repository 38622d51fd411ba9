/**
 * One contract for every OwnershipStore adapter (SQLite, Postgres; see store-backends.ts).
 * The race tests use two handles on one database, as two gateway instances would: whatever the
 * interleaving, a request id ends up with exactly one owner that both handles agree on.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { OwnershipRecord } from '../../src/store/ownership-store.js';
import { describeBackends } from './store-backends.js';

const AT = '2026-01-01T00:00:00.000Z';

function rec(requestId: string, ownerId: string): OwnershipRecord {
  return { requestId, ownerId, createdAt: AT };
}

describeBackends('OwnershipStore', (fresh) => {
  const make = async () => (await (await fresh()).open()).owners;

  it('returns null for an unknown request', async () => {
    const owners = await make();
    expect(await owners.ownerOf(randomUUID())).toBeNull();
  });

  it('records the owner, and recording the same owner again is a no-op', async () => {
    const owners = await make();
    const id = randomUUID();
    await owners.record(rec(id, 'key_a'));
    await expect(owners.record({ ...rec(id, 'key_a'), createdAt: '2026-02-01T00:00:00.000Z' })).resolves.toBeUndefined();
    expect(await owners.ownerOf(id)).toBe('key_a');
  });

  it('rejects a different owner for a recorded request and keeps the first', async () => {
    const owners = await make();
    const id = randomUUID();
    await owners.record(rec(id, 'key_a'));
    await expect(owners.record(rec(id, 'key_b'))).rejects.toThrow(/already owned/);
    expect(await owners.ownerOf(id)).toBe('key_a');
  });

  it('keeps owners of different requests apart', async () => {
    const owners = await make();
    const [one, two] = [randomUUID(), randomUUID()];
    await owners.record(rec(one, 'key_a'));
    await owners.record(rec(two, 'key_b'));
    expect([await owners.ownerOf(one), await owners.ownerOf(two)]).toEqual(['key_a', 'key_b']);
  });

  it('lets exactly one of two concurrent owners win, as seen from both handles', async () => {
    const db = await fresh();
    const [first, second] = [(await db.open()).owners, (await db.open()).owners];
    const ids = Array.from({ length: 25 }, () => randomUUID());
    await Promise.all(
      ids.map(async (id) => {
        const outcomes = await Promise.allSettled([first.record(rec(id, 'key_a')), second.record(rec(id, 'key_b'))]);
        const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i === 0 ? 'key_a' : 'key_b'] : []));
        expect(winners).toHaveLength(1);
        expect(await first.ownerOf(id)).toBe(winners[0]);
        expect(await second.ownerOf(id)).toBe(winners[0]);
      }),
    );
  });

  it('accepts concurrent records of the same owner from two handles', async () => {
    const db = await fresh();
    const [first, second] = [(await db.open()).owners, (await db.open()).owners];
    const ids = Array.from({ length: 25 }, () => randomUUID());
    await Promise.all(ids.flatMap((id) => [first.record(rec(id, 'key_a')), second.record(rec(id, 'key_a'))]));
    for (const id of ids) expect(await second.ownerOf(id)).toBe('key_a');
  });
});
