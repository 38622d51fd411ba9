/**
 * One contract for every LedgerStore adapter (SQLite, Postgres; see store-backends.ts):
 * reserve → settle | release, counters, idempotency keys and lookups. Refusals, usage aggregation
 * and the concurrent budget edge have their own files (ledger-*.contract.test.ts).
 */
import { expect, it } from 'vitest';
import type { LedgerStore } from '../../src/store/ledger-store.js';
import { AT, releaseInput, reserveInput, scopeRefs, settleInput, UNIT, type ReserveSpec } from './ledger-fixtures.js';
import { describeBackends } from './store-backends.js';

const zero = { spentMicro: 0, reservedMicro: 0 };

async function reserveOk(ledger: LedgerStore, spec: ReserveSpec = {}) {
  const result = await ledger.reserve(reserveInput(spec));
  if (!result.ok) throw new Error(`expected a reservation, got ${result.reason}`);
  return result.row;
}

describeBackends('LedgerStore', (fresh) => {
  const make = async () => (await (await fresh()).open()).ledger;

  it('reserves a row and charges the quote to the key and team counters of every period', async () => {
    const ledger = await make();
    const row = await reserveOk(ledger, { team: 'design', quotedMicro: 3 * UNIT, requestedMegapixels: 3 });
    expect(row).toMatchObject({ keyId: 'key_a', team: 'design', state: 'reserved', quotedMicro: 3 * UNIT, settledMicro: null, falRequestId: null, createdAt: AT });
    expect(await ledger.get(row.id)).toEqual(row);
    const totals = await ledger.counterTotals([...scopeRefs('key:key_a'), ...scopeRefs('team:design')]);
    expect(totals).toEqual(Array.from({ length: 6 }, () => ({ spentMicro: 0, reservedMicro: 3 * UNIT })));
  });

  it('settle moves the quote out of reserved and the settled amount into spent, and records how', async () => {
    const ledger = await make();
    const row = await reserveOk(ledger, { team: 'design', quotedMicro: 2 * UNIT });
    const at = '2026-03-15T12:00:05.000Z';
    expect(await ledger.settle(row.id, settleInput(UNIT, { billedUnits: 1, source: 'billable_units', verified: true, httpStatus: 200, at }))).toBe(true);
    expect(await ledger.get(row.id)).toMatchObject({
      state: 'settled',
      outcome: 'ok',
      settledMicro: UNIT,
      billedUnits: 1,
      settleSource: 'billable_units',
      verified: true,
      httpStatus: 200,
      settledAt: at,
    });
    const totals = await ledger.counterTotals([...scopeRefs('key:key_a'), ...scopeRefs('team:design')]);
    expect(totals).toEqual(Array.from({ length: 6 }, () => ({ spentMicro: UNIT, reservedMicro: 0 })));
  });

  it('applies settle or release once: a second settle or release returns false and changes nothing', async () => {
    const ledger = await make();
    const settled = await reserveOk(ledger, { quotedMicro: 2 * UNIT });
    const released = await reserveOk(ledger, { quotedMicro: UNIT });
    expect(await ledger.settle(settled.id, settleInput(2 * UNIT))).toBe(true);
    expect(await ledger.release(released.id, releaseInput())).toBe(true);
    const rowsBefore = [await ledger.get(settled.id), await ledger.get(released.id)];
    const before = await ledger.counterTotals(scopeRefs('key:key_a'));
    expect(before[0]).toEqual({ spentMicro: 2 * UNIT, reservedMicro: 0 });

    expect(await ledger.settle(settled.id, settleInput(UNIT, { outcome: 'late' }))).toBe(false);
    expect(await ledger.release(settled.id, releaseInput())).toBe(false);
    expect(await ledger.settle(released.id, settleInput(UNIT))).toBe(false);
    expect(await ledger.release(released.id, releaseInput({ outcome: 'again' }))).toBe(false);
    expect([await ledger.get(settled.id), await ledger.get(released.id)]).toEqual(rowsBefore);
    expect(await ledger.counterTotals(scopeRefs('key:key_a'))).toEqual(before);
  });

  it('release returns the quote and records the outcome without spending anything', async () => {
    const ledger = await make();
    const row = await reserveOk(ledger, { quotedMicro: 4 * UNIT });
    expect(await ledger.release(row.id, releaseInput({ outcome: 'cancelled', httpStatus: 400 }))).toBe(true);
    expect(await ledger.get(row.id)).toMatchObject({ state: 'released', outcome: 'cancelled', httpStatus: 400, settledMicro: null, settledAt: AT });
    expect(await ledger.counterTotals(scopeRefs('key:key_a'))).toEqual([zero, zero, zero]);
  });

  it('rejects a second reservation with an id already in the ledger, charging nothing', async () => {
    const ledger = await make();
    const row = await reserveOk(ledger, { id: 'req_same', quotedMicro: UNIT });
    await expect(ledger.reserve(reserveInput({ id: 'req_same', quotedMicro: 3 * UNIT }))).rejects.toThrow();
    expect(await ledger.get('req_same')).toEqual(row);
    expect((await ledger.counterTotals(scopeRefs('key:key_a')))[0]).toEqual({ spentMicro: 0, reservedMicro: UNIT });
  });

  it('returns false when settling or releasing an unknown row', async () => {
    const ledger = await make();
    expect(await ledger.settle('req_missing', settleInput(UNIT))).toBe(false);
    expect(await ledger.release('req_missing', releaseInput())).toBe(false);
    expect(await ledger.get('req_missing')).toBeNull();
  });

  it('records the real amount when fal bills more than the quote', async () => {
    const ledger = await make();
    const row = await reserveOk(ledger, { quotedMicro: UNIT, keyLimits: { lifetime: UNIT } });
    expect(await ledger.settle(row.id, settleInput(2 * UNIT))).toBe(true);
    expect((await ledger.counterTotals(scopeRefs('key:key_a')))[0]).toEqual({ spentMicro: 2 * UNIT, reservedMicro: 0 });
  });

  it('answers a repeated idempotency key of the same key with the existing row and reserves nothing', async () => {
    const ledger = await make();
    const first = await reserveOk(ledger, { idempotencyKey: 'idem-1', quotedMicro: UNIT });
    const again = await ledger.reserve(reserveInput({ idempotencyKey: 'idem-1', quotedMicro: 5 * UNIT }));
    expect(again).toEqual({ ok: false, reason: 'duplicate', existing: first });
    expect((await ledger.counterTotals(scopeRefs('key:key_a')))[0]).toEqual({ spentMicro: 0, reservedMicro: UNIT });
    expect(await ledger.findByIdempotencyKey('key_a', 'idem-1')).toEqual(first);
    // The same idempotency key under another API key, and rows without one, are independent.
    expect((await ledger.reserve(reserveInput({ keyId: 'key_b', idempotencyKey: 'idem-1' }))).ok).toBe(true);
    expect((await ledger.reserve(reserveInput())).ok).toBe(true);
    expect((await ledger.reserve(reserveInput())).ok).toBe(true);
    expect(await ledger.findByIdempotencyKey('key_a', 'idem-2')).toBeNull();
  });

  it('attaches a fal request id once and finds the row by it', async () => {
    const ledger = await make();
    const row = await reserveOk(ledger);
    const other = await reserveOk(ledger);
    await ledger.attachFalRequestId(row.id, 'fal-1');
    await ledger.attachFalRequestId(row.id, 'fal-1');
    expect(await ledger.findByFalRequestId('fal-1')).toMatchObject({ id: row.id, falRequestId: 'fal-1' });
    await expect(ledger.attachFalRequestId(row.id, 'fal-2')).rejects.toThrow(/cannot be attached/);
    await expect(ledger.attachFalRequestId(other.id, 'fal-1')).rejects.toThrow(/cannot be attached/);
    await expect(ledger.attachFalRequestId('req_missing', 'fal-3')).rejects.toThrow(/unknown ledger row/);
    expect(await ledger.findByFalRequestId('fal-2')).toBeNull();
  });

  it('lists reserved rows oldest first, up to the limit', async () => {
    const ledger = await make();
    const times = ['2026-03-15T12:00:02.000Z', '2026-03-15T12:00:00.000Z', '2026-03-15T12:00:03.000Z', '2026-03-15T12:00:01.000Z'];
    for (const [i, at] of times.entries()) await reserveOk(ledger, { id: `req_${i}`, at });
    await ledger.settle('req_3', settleInput(UNIT));
    expect((await ledger.pending(10)).map((r) => r.id)).toEqual(['req_1', 'req_0', 'req_2']);
    expect((await ledger.pending(2)).map((r) => r.id)).toEqual(['req_1', 'req_0']);
  });

  it('reads missing counters as zero, in the order asked', async () => {
    const ledger = await make();
    await reserveOk(ledger, { quotedMicro: 7 });
    expect(await ledger.counterTotals([{ scope: 'key:nobody', bucket: 'all' }, { scope: 'key:key_a', bucket: 'all' }])).toEqual([
      zero,
      { spentMicro: 0, reservedMicro: 7 },
    ]);
    expect(await ledger.counterTotals([])).toEqual([]);
  });

  it('keeps fractional megapixels and billed units, and normalises timestamps to ISO UTC', async () => {
    const ledger = await make();
    const row = await reserveOk(ledger, { requestedMegapixels: 1.048576, at: '2026-03-15T13:00:00+01:00' });
    expect(row.createdAt).toBe(AT);
    await ledger.settle(row.id, settleInput(UNIT, { billedUnits: 1.25 }));
    expect(await ledger.get(row.id)).toMatchObject({ requestedMegapixels: 1.048576, billedUnits: 1.25, createdAt: AT });
  });

  it('a second handle on the same database sees reservations and settles them once', async () => {
    const db = await fresh();
    const [first, second] = [(await db.open()).ledger, (await db.open()).ledger];
    const row = await reserveOk(first, { quotedMicro: UNIT });
    const outcomes = await Promise.all([first.settle(row.id, settleInput(UNIT)), second.settle(row.id, settleInput(UNIT))]);
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    expect((await second.counterTotals(scopeRefs('key:key_a')))[0]).toEqual({ spentMicro: UNIT, reservedMicro: 0 });
  });
});
