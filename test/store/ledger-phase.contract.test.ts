/**
 * How far a row's fal call got (ledger-store.ts UpstreamPhase), on every adapter: `markSent` records
 * `sent` and the row's own deadline, and a recovery release (`onlyUnsent`) never takes a row that left.
 */
import { expect, it } from 'vitest';
import type { LedgerStore } from '../../src/store/ledger-store.js';
import { releaseInput, reserveInput, scopeRefs, settleInput, UNIT, type ReserveSpec } from './ledger-fixtures.js';
import { describeBackends } from './store-backends.js';

const DEADLINE = '2026-03-15T12:05:05.000Z';

async function reserveOk(ledger: LedgerStore, spec: ReserveSpec = {}) {
  const result = await ledger.reserve(reserveInput(spec));
  if (!result.ok) throw new Error(`expected a reservation, got ${result.reason}`);
  return result.row;
}

describeBackends('LedgerStore upstream phase', (fresh) => {
  const make = async () => (await (await fresh()).open()).ledger;

  it('a new row is in phase reserved with no deadline; markSent records sent and the deadline', async () => {
    const ledger = await make();
    const row = await reserveOk(ledger);
    expect(row).toMatchObject({ upstreamPhase: 'reserved', deadlineAt: null });
    expect(await ledger.get(row.id)).toMatchObject({ upstreamPhase: 'reserved', deadlineAt: null });
    expect(await ledger.markSent(row.id, DEADLINE)).toBe(true);
    expect(await ledger.get(row.id)).toMatchObject({ state: 'reserved', upstreamPhase: 'sent', deadlineAt: DEADLINE });
    expect((await ledger.pending(10))[0]).toMatchObject({ id: row.id, upstreamPhase: 'sent', deadlineAt: DEADLINE });
  });

  it('markSent answers false, and changes nothing, once the row left reserved or does not exist', async () => {
    const ledger = await make();
    const released = await reserveOk(ledger);
    expect(await ledger.release(released.id, releaseInput({ outcome: 'not_sent' }))).toBe(true);
    expect(await ledger.markSent(released.id, DEADLINE)).toBe(false);
    expect(await ledger.get(released.id)).toMatchObject({ state: 'released', upstreamPhase: 'reserved', deadlineAt: null });
    expect(await ledger.markSent('req_missing', DEADLINE)).toBe(false);
  });

  it('a release with onlyUnsent takes a row fal never saw, and refuses a sent one (which settle still can)', async () => {
    const ledger = await make();
    const unsent = await reserveOk(ledger);
    const sent = await reserveOk(ledger);
    await ledger.markSent(sent.id, DEADLINE);
    expect(await ledger.release(sent.id, releaseInput({ outcome: 'not_sent', onlyUnsent: true }))).toBe(false);
    expect(await ledger.get(sent.id)).toMatchObject({ state: 'reserved', upstreamPhase: 'sent' });
    expect(await ledger.counterTotals(scopeRefs('key:key_a'))).toEqual(Array.from({ length: 3 }, () => ({ spentMicro: 0, reservedMicro: 2 * UNIT })));
    expect(await ledger.release(unsent.id, releaseInput({ outcome: 'not_sent', onlyUnsent: true }))).toBe(true);
    expect(await ledger.settle(sent.id, settleInput(UNIT, { outcome: 'recovered', verified: false, source: 'quote' }))).toBe(true);
    expect(await ledger.counterTotals(scopeRefs('key:key_a'))).toEqual(Array.from({ length: 3 }, () => ({ spentMicro: UNIT, reservedMicro: 0 })));
  });
});
