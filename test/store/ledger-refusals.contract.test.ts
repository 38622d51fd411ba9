/**
 * Budget refusals on every LedgerStore adapter (SQLite, Postgres; see store-backends.ts):
 * the exact edge of a limit, which limit is reported and what remains of it, UTC day and month
 * buckets, and inputs refused as programming errors. Nothing is charged when a reservation is refused.
 */
import { expect, it } from 'vitest';
import type { LedgerStore } from '../../src/store/ledger-store.js';
import { releaseInput, reserveInput, scopeRefs, settleInput, UNIT, type ReserveSpec } from './ledger-fixtures.js';
import { describeBackends } from './store-backends.js';

const zero = { spentMicro: 0, reservedMicro: 0 };

async function reserveOk(ledger: LedgerStore, spec: ReserveSpec = {}) {
  const result = await ledger.reserve(reserveInput(spec));
  if (!result.ok) throw new Error(`expected a reservation, got ${result.reason}`);
  return result.row;
}

describeBackends('Ledger refusals', (fresh) => {
  const make = async () => (await (await fresh()).open()).ledger;

  it('fits a reservation that lands exactly on the limit and refuses one micro-USD more', async () => {
    const ledger = await make();
    await reserveOk(ledger, { quotedMicro: 3 * UNIT, keyLimits: { lifetime: 5 * UNIT } });
    expect((await ledger.reserve(reserveInput({ quotedMicro: 2 * UNIT + 1, keyLimits: { lifetime: 5 * UNIT } }))).ok).toBe(false);
    expect((await ledger.reserve(reserveInput({ quotedMicro: 2 * UNIT, keyLimits: { lifetime: 5 * UNIT } }))).ok).toBe(true);
  });

  it('reports which limit refused, with what remains of it, and charges nothing on refusal', async () => {
    const ledger = await make();
    const keyLimits = { lifetime: 10 * UNIT, day: 3 * UNIT };
    const row = await reserveOk(ledger, { team: 'design', quotedMicro: 2 * UNIT, keyLimits });
    await ledger.settle(row.id, settleInput(UNIT));
    const before = await ledger.counterTotals([...scopeRefs('key:key_a'), ...scopeRefs('team:design')]);
    const refused = await ledger.reserve(reserveInput({ team: 'design', quotedMicro: 3 * UNIT, keyLimits }));
    expect(refused).toEqual({ ok: false, reason: 'budget', scopeKind: 'key', period: 'day', unit: 'micro_usd', limit: 3 * UNIT, remaining: 2 * UNIT });
    expect(await ledger.counterTotals([...scopeRefs('key:key_a'), ...scopeRefs('team:design')])).toEqual(before);
    expect(await ledger.pending(10)).toEqual([]);

    const team = await ledger.reserve(reserveInput({ team: 'design', quotedMicro: UNIT, teamLimits: { month: UNIT } }));
    expect(team).toEqual({ ok: false, reason: 'budget', scopeKind: 'team', period: 'month', unit: 'micro_usd', limit: UNIT, remaining: 0 });
  });

  it('reports the key before the team and lifetime before day before month when several limits refuse', async () => {
    const ledger = await make();
    const all = { lifetime: UNIT - 1, day: UNIT - 1, month: UNIT - 1 };
    const refused = await ledger.reserve(reserveInput({ team: 'design', keyLimits: all, teamLimits: all }));
    expect(refused).toMatchObject({ ok: false, reason: 'budget', scopeKind: 'key', period: 'lifetime' });
    const dayAndMonth = await ledger.reserve(reserveInput({ team: 'design', keyLimits: { day: 0, month: 0 } }));
    expect(dayAndMonth).toMatchObject({ scopeKind: 'key', period: 'day', remaining: 0 });
    const teamOnly = await ledger.reserve(reserveInput({ team: 'design', teamLimits: { day: 0, month: 0 } }));
    expect(teamOnly).toMatchObject({ scopeKind: 'team', period: 'day' });
  });

  it('reports zero remaining when a lowered limit is already below what was spent', async () => {
    const ledger = await make();
    const row = await reserveOk(ledger, { quotedMicro: 5 * UNIT });
    await ledger.settle(row.id, settleInput(5 * UNIT));
    expect(await ledger.reserve(reserveInput({ keyLimits: { lifetime: 2 * UNIT } }))).toMatchObject({ reason: 'budget', limit: 2 * UNIT, remaining: 0 });
  });

  it('counts a request in its UTC day and month, and a daily limit starts afresh the next day', async () => {
    const ledger = await make();
    const keyLimits = { day: 2 * UNIT };
    const lastOfJan = '2026-01-31T23:59:59.999Z';
    const firstOfFeb = '2026-02-01T00:00:00.000Z';
    const jan = await reserveOk(ledger, { quotedMicro: 2 * UNIT, keyLimits, at: lastOfJan });
    expect(await ledger.reserve(reserveInput({ keyLimits, at: lastOfJan }))).toMatchObject({ reason: 'budget', period: 'day' });
    const feb = await reserveOk(ledger, { quotedMicro: 2 * UNIT, keyLimits, at: firstOfFeb });
    // Settled the next day: the counters of the day the request was made move, not today's.
    await ledger.settle(jan.id, settleInput(UNIT, { at: firstOfFeb }));
    await ledger.release(feb.id, releaseInput({ at: firstOfFeb }));
    const refs = [
      { scope: 'key:key_a', bucket: '2026-01-31' },
      { scope: 'key:key_a', bucket: '2026-01' },
      { scope: 'key:key_a', bucket: '2026-02-01' },
      { scope: 'key:key_a', bucket: '2026-02' },
      { scope: 'key:key_a', bucket: 'all' },
    ];
    const spentJan = { spentMicro: UNIT, reservedMicro: 0 };
    expect(await ledger.counterTotals(refs)).toEqual([spentJan, spentJan, zero, zero, spentJan]);
  });

  it('keeps counting spend on scopes without limits, so a budget set later sees earlier spend', async () => {
    const ledger = await make();
    const row = await reserveOk(ledger, { team: 'design', quotedMicro: 3 * UNIT });
    await ledger.settle(row.id, settleInput(3 * UNIT));
    expect(await ledger.reserve(reserveInput({ team: 'design', teamLimits: { lifetime: 3 * UNIT } }))).toMatchObject({ scopeKind: 'team', remaining: 0 });
  });

  it('refuses counters that do not match the row, and amounts that are not whole micro-USD', async () => {
    const ledger = await make();
    const input = reserveInput({ team: 'design' });
    await expect(ledger.reserve({ ...input, counters: input.counters.slice(0, 3) })).rejects.toThrow(/counters/);
    await expect(ledger.reserve({ ...input, at: '2026-04-01T00:00:00.000Z' })).rejects.toThrow(/counters/);
    await expect(ledger.reserve({ ...input, quotedMicro: 0.5 })).rejects.toThrow(RangeError);
    await expect(ledger.reserve({ ...input, quotedMicro: -1 })).rejects.toThrow(RangeError);
    const row = await reserveOk(ledger);
    await expect(ledger.settle(row.id, settleInput(1.5))).rejects.toThrow(RangeError);
    expect((await ledger.get(row.id))?.state).toBe('reserved');
  });
});
