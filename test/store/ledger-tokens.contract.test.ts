/**
 * Browser-token counters on every LedgerStore adapter (SQLite, Postgres; see
 * store-backends.ts): a request through a token is charged to the token's spend (micro-USD) and
 * image count (its num_images) too, in the same atomic step as its key's budgets; settle spends
 * the settled amount and the images, release returns both; max_usd and max_images refuse like any
 * budget, reported with `scopeKind: 'token'` and the unit.
 */
import { expect, it } from 'vitest';
import type { LedgerStore, ReserveResult } from '../../src/store/ledger-store.js';
import { releaseInput, reserveInput, scopeRefs, settleInput, token, tokenRefs, UNIT, type ReserveSpec } from './ledger-fixtures.js';
import { describeBackends } from './store-backends.js';

const zero = { spentMicro: 0, reservedMicro: 0 };

async function reserveOk(ledger: LedgerStore, spec: ReserveSpec) {
  const result = await ledger.reserve(reserveInput(spec));
  if (!result.ok) throw new Error(`expected a reservation, got ${JSON.stringify(result)}`);
  return result.row;
}

describeBackends('Ledger tokens', (fresh) => {
  const make = async () => (await (await fresh()).open()).ledger;

  it("stores the token, images and end user on the row and charges the token's spend and image counters with the key's", async () => {
    const ledger = await make();
    const row = await reserveOk(ledger, { team: 'design', token: token('tok_1', 10 * UNIT, 8), images: 3, quotedMicro: 3 * UNIT, endUser: 'user-7' });
    expect(row).toMatchObject({ tokenId: 'tok_1', images: 3, endUser: 'user-7', quotedMicro: 3 * UNIT, state: 'reserved' });
    expect(await ledger.get(row.id)).toEqual(row);
    expect(await ledger.counterTotals(tokenRefs('tok_1'))).toEqual([
      { spentMicro: 0, reservedMicro: 3 * UNIT },
      { spentMicro: 0, reservedMicro: 3 },
    ]);
    const scopes = await ledger.counterTotals([...scopeRefs('key:key_a'), ...scopeRefs('team:design')]);
    expect(scopes).toEqual(Array.from({ length: 6 }, () => ({ spentMicro: 0, reservedMicro: 3 * UNIT })));
  });

  it('settle spends the settled amount on the token and the reserved images on its image counter', async () => {
    const db = await fresh();
    const [first, second] = [(await db.open()).ledger, (await db.open()).ledger];
    const row = await reserveOk(first, { token: token('tok_1', 10 * UNIT, 8), images: 3, quotedMicro: 3 * UNIT });
    // Settled from another handle (another instance): it recomputes the counters from the row.
    expect(await second.settle(row.id, settleInput(2 * UNIT))).toBe(true);
    expect(await first.settle(row.id, settleInput(2 * UNIT))).toBe(false);
    expect(await first.counterTotals(tokenRefs('tok_1'))).toEqual([
      { spentMicro: 2 * UNIT, reservedMicro: 0 },
      { spentMicro: 3, reservedMicro: 0 },
    ]);
    expect((await first.counterTotals(scopeRefs('key:key_a')))[0]).toEqual({ spentMicro: 2 * UNIT, reservedMicro: 0 });
    expect(await first.get(row.id)).toMatchObject({ state: 'settled', settledMicro: 2 * UNIT, tokenId: 'tok_1', images: 3 });
  });

  it('release gives back both the quote and the images', async () => {
    const ledger = await make();
    const row = await reserveOk(ledger, { token: token('tok_1', null, 8), images: 4, quotedMicro: 4 * UNIT });
    expect(await ledger.release(row.id, releaseInput())).toBe(true);
    expect(await ledger.release(row.id, releaseInput())).toBe(false);
    expect(await ledger.counterTotals([...tokenRefs('tok_1'), ...scopeRefs('key:key_a')])).toEqual([zero, zero, zero, zero, zero]);
  });

  it('a request without a token stores no token and its images, and touches no token counter', async () => {
    const ledger = await make();
    const row = await reserveOk(ledger, { images: 2, quotedMicro: 2 * UNIT });
    expect(row).toMatchObject({ tokenId: null, images: 2, endUser: null });
    await ledger.settle(row.id, settleInput(2 * UNIT));
    expect(await ledger.get(row.id)).toMatchObject({ tokenId: null, images: 2 });
    expect(await ledger.counterTotals(tokenRefs('tok_1'))).toEqual([zero, zero]);
  });

  it('refuses past max_images with the images remaining and past max_usd with the micro-USD remaining, charging nothing', async () => {
    const ledger = await make();
    const tok = token('tok_1', 10 * UNIT, 4);
    await reserveOk(ledger, { token: tok, images: 3, quotedMicro: 3 * UNIT });
    const before = await ledger.counterTotals([...tokenRefs('tok_1'), ...scopeRefs('key:key_a')]);
    const images = await ledger.reserve(reserveInput({ token: tok, images: 2, quotedMicro: UNIT }));
    expect(images).toEqual({ ok: false, reason: 'budget', scopeKind: 'token', period: 'lifetime', unit: 'images', limit: 4, remaining: 1 });
    const usd = await ledger.reserve(reserveInput({ token: tok, images: 1, quotedMicro: 7 * UNIT + 1 }));
    expect(usd).toEqual({ ok: false, reason: 'budget', scopeKind: 'token', period: 'lifetime', unit: 'micro_usd', limit: 10 * UNIT, remaining: 7 * UNIT });
    expect(await ledger.counterTotals([...tokenRefs('tok_1'), ...scopeRefs('key:key_a')])).toEqual(before);
    expect(await ledger.pending(10)).toHaveLength(1);
    // Exactly at both edges fits.
    await reserveOk(ledger, { token: tok, images: 1, quotedMicro: 7 * UNIT });
    expect(await ledger.counterTotals(tokenRefs('tok_1'))).toEqual([
      { spentMicro: 0, reservedMicro: 10 * UNIT },
      { spentMicro: 0, reservedMicro: 4 },
    ]);
  });

  it("reports the key's and the team's budgets before the token's caps, and the token's images before its spend", async () => {
    const ledger = await make();
    const tok = token('tok_1', 0, 0);
    expect(await ledger.reserve(reserveInput({ team: 'design', token: tok, keyLimits: { month: 0 } }))).toMatchObject({ scopeKind: 'key', period: 'month', unit: 'micro_usd' });
    expect(await ledger.reserve(reserveInput({ team: 'design', token: tok, teamLimits: { day: 0 } }))).toMatchObject({ scopeKind: 'team', period: 'day' });
    expect(await ledger.reserve(reserveInput({ team: 'design', token: tok }))).toMatchObject({ scopeKind: 'token', unit: 'images', limit: 0 });
  });

  it('counts the images of settled requests against max_images; released requests give theirs back', async () => {
    const ledger = await make();
    const tok = token('tok_1', null, 4);
    const settled = await reserveOk(ledger, { token: tok, images: 2 });
    await ledger.settle(settled.id, settleInput(0, { outcome: 'failed' }));
    const released = await reserveOk(ledger, { token: tok, images: 2 });
    await ledger.release(released.id, releaseInput());
    await reserveOk(ledger, { token: tok, images: 2 });
    expect(await ledger.reserve(reserveInput({ token: tok, images: 1 }))).toMatchObject({ scopeKind: 'token', unit: 'images', limit: 4, remaining: 0 });
    expect((await ledger.counterTotals(tokenRefs('tok_1')))[1]).toEqual({ spentMicro: 2, reservedMicro: 2 });
  });

  it("keeps two tokens' caps apart while the key's budget covers both", async () => {
    const ledger = await make();
    const keyLimits = { lifetime: 3 * UNIT };
    const [a, b] = [token('tok_a', null, 2), token('tok_b', null, null)];
    await reserveOk(ledger, { token: a, keyLimits });
    await reserveOk(ledger, { token: a, keyLimits });
    expect(await ledger.reserve(reserveInput({ token: a, keyLimits }))).toMatchObject({ scopeKind: 'token', unit: 'images' });
    await reserveOk(ledger, { token: b, keyLimits });
    expect(await ledger.reserve(reserveInput({ token: b, keyLimits }))).toMatchObject({ scopeKind: 'key', period: 'lifetime', remaining: 0 });
    expect((await ledger.counterTotals(tokenRefs('tok_b')))[1]).toEqual({ spentMicro: 0, reservedMicro: 1 });
  });

  it('refuses counters that do not match the token, image counts that are not whole and positive, and fractional image limits', async () => {
    const ledger = await make();
    const input = reserveInput({ token: token('tok_1', UNIT, 5) });
    const plain = reserveInput();
    const other = reserveInput({ token: token('tok_2', UNIT, 5) });
    await expect(ledger.reserve({ ...input, counters: plain.counters })).rejects.toThrow(/counters/);
    await expect(ledger.reserve({ ...input, tokenId: null })).rejects.toThrow(/counters/);
    await expect(ledger.reserve({ ...input, counters: other.counters })).rejects.toThrow(/counters/);
    const swapped = input.counters.map((c) => (c.scopeKind === 'token' ? { ...c, unit: c.unit === 'images' ? ('micro_usd' as const) : ('images' as const) } : c));
    await expect(ledger.reserve({ ...input, counters: swapped })).rejects.toThrow(/counters/);
    for (const images of [0, -1, 1.5, Number.NaN]) await expect(ledger.reserve({ ...input, images })).rejects.toThrow(RangeError);
    const fractional = input.counters.map((c) => (c.unit === 'images' ? { ...c, limit: 2.5 } : c));
    await expect(ledger.reserve({ ...input, counters: fractional })).rejects.toThrow(RangeError);
    expect(await ledger.counterTotals([...tokenRefs('tok_1'), ...scopeRefs('key:key_a')])).toEqual([zero, zero, zero, zero, zero]);
    expect(await ledger.pending(10)).toEqual([]);
  });

  it('accepts exactly max_images of 200 concurrent one-image reservations through one token, across two handles', async () => {
    const db = await fresh();
    const [first, second] = [(await db.open({ max: 10 })).ledger, (await db.open({ max: 10 })).ledger];
    const tok = token('tok_edge', null, 10);
    const attempt = (i: number): Promise<ReserveResult> => (i % 2 === 0 ? first : second).reserve(reserveInput({ id: `req_${i}`, team: 'design', token: tok }));
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => attempt(i)));
    const accepted = results.flatMap((r) => (r.ok ? [r.row] : []));
    expect(accepted).toHaveLength(10);
    for (const r of results.filter((x) => !x.ok)) {
      expect(r).toEqual({ ok: false, reason: 'budget', scopeKind: 'token', period: 'lifetime', unit: 'images', limit: 10, remaining: 0 });
    }
    expect(await second.counterTotals([...tokenRefs('tok_edge'), ...scopeRefs('team:design')])).toEqual([
      { spentMicro: 0, reservedMicro: 10 * UNIT },
      { spentMicro: 0, reservedMicro: 10 },
      ...scopeRefs('team:design').map(() => ({ spentMicro: 0, reservedMicro: 10 * UNIT })),
    ]);
    const settled = await Promise.all(accepted.flatMap((row) => [first, second].map((h) => h.settle(row.id, settleInput(UNIT)))));
    expect(settled.filter(Boolean)).toHaveLength(10);
    expect(await first.counterTotals(tokenRefs('tok_edge'))).toEqual([
      { spentMicro: 10 * UNIT, reservedMicro: 0 },
      { spentMicro: 10, reservedMicro: 0 },
    ]);
  });
});
