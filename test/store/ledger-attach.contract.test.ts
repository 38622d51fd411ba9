/**
 * fal's request id written together with another write, on every adapter: a submit's attach
 * records the request's owner in the same write (all or nothing), and a sync run's settlement or
 * release carries the id itself. The id stays unique across rows either way.
 */
import { expect, it } from 'vitest';
import type { LedgerStore } from '../../src/store/ledger-store.js';
import { releaseInput, reserveInput, scopeRefs, settleInput, UNIT } from './ledger-fixtures.js';
import { describeBackends } from './store-backends.js';

async function reserveOk(ledger: LedgerStore) {
  const result = await ledger.reserve(reserveInput());
  if (!result.ok) throw new Error(`expected a reservation, got ${JSON.stringify(result)}`);
  return result.row;
}

const AT = '2026-03-15T12:00:00.000Z';

describeBackends('Ledger attach with owner and settlement', (fresh) => {
  it('records the owner with the fal id, idempotently, and neither when the request belongs to another owner', async () => {
    const stores = await (await fresh()).open();
    const row = await reserveOk(stores.ledger);
    await stores.ledger.attachFalRequestId(row.id, 'fal-1', { ownerId: 'key_a/tok_1', createdAt: AT });
    await stores.ledger.attachFalRequestId(row.id, 'fal-1', { ownerId: 'key_a/tok_1', createdAt: AT });
    expect(await stores.owners.ownerOf('fal-1')).toBe('key_a/tok_1');
    expect(await stores.ledger.findByFalRequestId('fal-1')).toMatchObject({ id: row.id });

    await stores.owners.record({ requestId: 'fal-2', ownerId: 'key_b', createdAt: AT });
    const other = await reserveOk(stores.ledger);
    await expect(stores.ledger.attachFalRequestId(other.id, 'fal-2', { ownerId: 'key_a', createdAt: AT })).rejects.toThrow(/already owned/);
    expect(await stores.ledger.get(other.id)).toMatchObject({ falRequestId: null });
    expect(await stores.owners.ownerOf('fal-2')).toBe('key_b');
    await expect(stores.ledger.attachFalRequestId(other.id, 'fal-1', { ownerId: 'key_a', createdAt: AT })).rejects.toThrow(/cannot be attached/);
    await expect(stores.ledger.attachFalRequestId('req_missing', 'fal-3', { ownerId: 'key_a', createdAt: AT })).rejects.toThrow(/unknown ledger row/);
    expect(await stores.owners.ownerOf('fal-3')).toBeNull();
  });

  it('attaches the fal id given with a settlement or a release', async () => {
    const { ledger } = await (await fresh()).open();
    const settled = await reserveOk(ledger);
    const released = await reserveOk(ledger);
    expect(await ledger.settle(settled.id, settleInput(UNIT, { falRequestId: 'fal-s' }))).toBe(true);
    expect(await ledger.release(released.id, releaseInput({ falRequestId: 'fal-r' }))).toBe(true);
    expect(await ledger.findByFalRequestId('fal-s')).toMatchObject({ id: settled.id, state: 'settled', settledMicro: UNIT });
    expect(await ledger.findByFalRequestId('fal-r')).toMatchObject({ id: released.id, state: 'released' });
    // A row that already has the id keeps it; a settlement without one keeps the row's.
    const attached = await reserveOk(ledger);
    await ledger.attachFalRequestId(attached.id, 'fal-a');
    expect(await ledger.settle(attached.id, settleInput(UNIT))).toBe(true);
    expect(await ledger.get(attached.id)).toMatchObject({ falRequestId: 'fal-a', state: 'settled' });
  });

  it('refuses a settlement carrying a fal id another row has, moving nothing', async () => {
    const { ledger } = await (await fresh()).open();
    const first = await reserveOk(ledger);
    const second = await reserveOk(ledger);
    await ledger.attachFalRequestId(first.id, 'fal-1');
    await expect(ledger.settle(second.id, settleInput(UNIT, { falRequestId: 'fal-1' }))).rejects.toThrow(/cannot be attached/);
    await expect(ledger.settle(first.id, settleInput(UNIT, { falRequestId: 'fal-other' }))).rejects.toThrow(/cannot be attached/);
    expect(await ledger.get(second.id)).toMatchObject({ state: 'reserved', falRequestId: null });
    expect(await ledger.get(first.id)).toMatchObject({ state: 'reserved', falRequestId: 'fal-1' });
    expect((await ledger.counterTotals(scopeRefs('key:key_a')))[0]).toEqual({ spentMicro: 0, reservedMicro: 2 * UNIT });
    // Settling a row already settled is still a no-op, fal id or not.
    expect(await ledger.settle(first.id, settleInput(UNIT))).toBe(true);
    expect(await ledger.settle(first.id, settleInput(UNIT, { falRequestId: 'fal-1' }))).toBe(false);
  });
});
