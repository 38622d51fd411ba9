/**
 * Key lifecycle on every KeyStore adapter (issue #10): owner, metadata and expires_at round trip;
 * a rotation keeps the id and lets the replaced secret in only during its grace; a hard delete is
 * refused while the ledger names the key; a reservation refuses an expired key row.
 */
import { expect, it } from 'vitest';
import { generateKeyId, generateSecretKey, hashKey } from '../../src/domain/keys.js';
import type { NewKey } from '../../src/store/key-store.js';
import type { Stores } from '../../src/store/stores.js';
import { AT, reserveInput } from './ledger-fixtures.js';
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
    createdAt: '2026-03-01T00:00:00.000Z',
    ...over,
  };
}

const T0 = '2026-03-15T12:00:00.000Z';
const T_GRACE = '2026-03-15T13:00:00.000Z';
const T_AFTER = '2026-03-15T13:00:00.001Z';

describeBackends('KeyStore lifecycle', (db) => {
  const open = async (): Promise<Stores> => (await db()).open();

  it('stores owner, metadata and expires_at, and patches and clears them', async () => {
    const { keys } = await open();
    const { secret: _s, ...row } = newKey({ owner: 'ana@example.com', metadata: { app: 'web', tier: 2, tags: ['a'] }, expiresAt: '2027-01-01T00:00:00.000Z' });
    const created = await keys.create(row);
    expect(created).toMatchObject({ owner: 'ana@example.com', metadata: { app: 'web', tier: 2, tags: ['a'] }, expiresAt: '2027-01-01T00:00:00.000Z', previousSecretUntil: null });
    expect(await keys.get(row.id)).toEqual(created);
    const patched = await keys.update(row.id, { owner: null, metadata: { app: 'cli' }, expiresAt: null });
    expect(patched).toMatchObject({ owner: null, metadata: { app: 'cli' }, expiresAt: null });
    expect(await keys.get(row.id)).toEqual(patched);
  });

  it('rotates: same id, new secret; the old one only during the grace', async () => {
    const { keys } = await open();
    const { secret: oldSecret, ...row } = newKey({ budgetMicroUsd: 7 });
    await keys.create(row);
    const next = generateSecretKey();
    const rotated = await keys.rotate(row.id, { hash: hashKey(next), prefix: next.slice(0, 11), graceUntil: T_GRACE });
    expect(rotated).toMatchObject({ id: row.id, budgetMicroUsd: 7, prefix: next.slice(0, 11), previousSecretUntil: T_GRACE });
    expect((await keys.findActiveByHash(hashKey(next), T0))?.id).toBe(row.id);
    expect((await keys.findActiveByHash(hashKey(oldSecret), T0))?.id).toBe(row.id);
    expect(await keys.findActiveByHash(hashKey(oldSecret), T_GRACE)).toBeNull();
    expect(await keys.findActiveByHash(hashKey(oldSecret), T_AFTER)).toBeNull();
    // A second rotation without grace ends the first one's grace too.
    const third = generateSecretKey();
    await keys.rotate(row.id, { hash: hashKey(third), prefix: third.slice(0, 11), graceUntil: null });
    expect(await keys.findActiveByHash(hashKey(oldSecret), T0)).toBeNull();
    expect(await keys.findActiveByHash(hashKey(next), T0)).toBeNull();
    expect((await keys.findActiveByHash(hashKey(third), T0))?.previousSecretUntil).toBeNull();
  });

  it('does not rotate a revoked key, and a revoked key is not found by its old secret either', async () => {
    const { keys } = await open();
    const { secret: oldSecret, ...row } = newKey();
    await keys.create(row);
    const next = generateSecretKey();
    await keys.rotate(row.id, { hash: hashKey(next), prefix: next.slice(0, 11), graceUntil: T_GRACE });
    await keys.revoke(row.id, T0);
    expect(await keys.findActiveByHash(hashKey(oldSecret), T0)).toBeNull();
    expect(await keys.rotate(row.id, { hash: hashKey('x'), prefix: 'x', graceUntil: null })).toBeNull();
  });

  it('hard-deletes a key without ledger rows and refuses one with them', async () => {
    const stores = await open();
    const { secret: _a, ...unused } = newKey();
    const { secret: _b, ...used } = newKey();
    await stores.keys.create(unused);
    await stores.keys.create(used);
    expect(await stores.ledger.reserve(reserveInput({ keyId: used.id }))).toMatchObject({ ok: true });
    expect(await stores.keys.hardDelete(used.id)).toBe('has_ledger_rows');
    expect(await stores.keys.get(used.id)).not.toBeNull();
    expect(await stores.keys.hardDelete(unused.id)).toBe('deleted');
    expect(await stores.keys.get(unused.id)).toBeNull();
    expect(await stores.keys.hardDelete(unused.id)).toBe('not_found');
  });

  it('a fresh-limits reservation refuses a key row that expired at or before its time', async () => {
    const stores = await open();
    const { secret: _s, ...row } = newKey({ expiresAt: AT });
    await stores.keys.create(row);
    const before = new Date(Date.parse(AT) - 1).toISOString();
    expect(await stores.ledger.reserve({ ...reserveInput({ keyId: row.id, at: before }), freshLimits: true })).toMatchObject({ ok: true });
    expect(await stores.ledger.reserve({ ...reserveInput({ keyId: row.id, at: AT }), freshLimits: true })).toEqual({ ok: false, reason: 'expired', expiresAt: AT });
  });
});
