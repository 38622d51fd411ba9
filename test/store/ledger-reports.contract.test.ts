/**
 * The report reads of every LedgerStore adapter: usage grids (two dimensions, hours, teams, the
 * counts that include released rows), each key's last use, pages of rows newest first with
 * filters and flags, and counter totals read for many scopes at once.
 */
import { expect, it } from 'vitest';
import { generateSecretKey, hashKey } from '../../src/domain/keys.js';
import type { KeyStore } from '../../src/store/key-store.js';
import type { LedgerStore } from '../../src/store/ledger-store.js';
import { releaseInput, reserveInput, scopeRefs, settleInput, UNIT, type ReserveSpec } from './ledger-fixtures.js';
import { describeBackends } from './store-backends.js';

async function reserve(ledger: LedgerStore, spec: ReserveSpec): Promise<string> {
  const result = await ledger.reserve(reserveInput(spec));
  if (!result.ok) throw new Error(`expected a reservation, got ${result.reason}`);
  return result.row.id;
}

const http = (s2xx = 0, s402 = 0, s429 = 0, s4xx = 0, s5xx = 0) => ({ s2xx, s402, s429, s4xx, s5xx });

/**
 * key_a (design): 14 Mar 10:xx settled 2 images 200, 15 Mar 09:xx reserved, 15 Mar 10:xx released 500.
 * key_b (design): 15 Mar 10:xx settled above its quote, unverified, 422. key_c (no team): 16 Mar settled 'recovered' 200, then released 402.
 */
async function seed(ledger: LedgerStore): Promise<void> {
  const a1 = await reserve(ledger, { id: 'r1', keyId: 'key_a', team: 'design', quotedMicro: 2 * UNIT, requestedMegapixels: 2, images: 2, at: '2026-03-14T10:05:00.000Z' });
  await ledger.settle(a1, settleInput(2 * UNIT, { verified: true, source: 'image_sizes' }));
  await reserve(ledger, { id: 'r2', keyId: 'key_a', team: 'design', quotedMicro: UNIT, at: '2026-03-15T09:00:00.000Z' });
  const a3 = await reserve(ledger, { id: 'r3', keyId: 'key_a', team: 'design', quotedMicro: UNIT, at: '2026-03-15T10:00:00.000Z' });
  await ledger.release(a3, releaseInput());
  const b1 = await reserve(ledger, { id: 'r4', keyId: 'key_b', team: 'design', quotedMicro: UNIT, requestedMegapixels: 0.5, at: '2026-03-15T10:30:00.000Z' });
  await ledger.settle(b1, settleInput(UNIT + 7, { httpStatus: 422 }));
  const c1 = await reserve(ledger, { id: 'r5', keyId: 'key_c', quotedMicro: 4 * UNIT, requestedMegapixels: 4, at: '2026-03-16T00:00:00.000Z' });
  await ledger.settle(c1, settleInput(4 * UNIT, { outcome: 'recovered', verified: true }));
  const c2 = await reserve(ledger, { id: 'r6', keyId: 'key_c', quotedMicro: UNIT, at: '2026-03-16T00:00:00.000Z' });
  await ledger.release(c2, releaseInput({ httpStatus: 402, outcome: 'refused_by_fal' }));
}

/** Key rows for the ledger's key ids (the SQL adapters read every key's last use from the key table). */
async function createKeys(keys: KeyStore, ids: string[]): Promise<void> {
  for (const id of ids) {
    const secret = generateSecretKey();
    await keys.create({ id, name: id, team: null, kind: 'secret', hash: hashKey(secret), prefix: secret.slice(0, 11), budgetMicroUsd: null, budgetDailyMicroUsd: null, budgetMonthlyMicroUsd: null, rpm: null, maxConcurrency: null, allowedWebhookUrls: [], allowedOrigins: [], policy: null, createdAt: '2026-03-01T00:00:00.000Z' });
  }
}

describeBackends('Ledger reports', (fresh) => {
  const make = async () => (await (await fresh()).open()).ledger;

  it('totals every row without dimensions, released ones only in released and the status classes', async () => {
    const ledger = await make();
    expect(await ledger.usageGrid({ dimensions: [] })).toEqual([
      { groups: [], requests: 0, released: 0, spentMicro: 0, reservedMicro: 0, megapixels: 0, billedUnits: 0, images: 0, overruns: 0, http: http() },
    ]);
    await seed(ledger);
    expect(await ledger.usageGrid({ dimensions: [] })).toEqual([
      { groups: [], requests: 4, released: 2, spentMicro: 7 * UNIT + 7, reservedMicro: UNIT, megapixels: 6.5, billedUnits: 0, images: 4, overruns: 1, http: http(2, 1, 0, 1, 1) },
    ]);
  });

  it('groups by day and key, by hour and team (no team as empty), in byte order', async () => {
    const ledger = await make();
    await seed(ledger);
    const dayKey = await ledger.usageGrid({ dimensions: ['day', 'key'] });
    expect(dayKey.map((r) => [r.groups, r.requests, r.released, r.spentMicro, r.reservedMicro])).toEqual([
      [['2026-03-14', 'key_a'], 1, 0, 2 * UNIT, 0],
      [['2026-03-15', 'key_a'], 1, 1, 0, UNIT],
      [['2026-03-15', 'key_b'], 1, 0, UNIT + 7, 0],
      [['2026-03-16', 'key_c'], 1, 1, 4 * UNIT, 0],
    ]);
    const hourTeam = await ledger.usageGrid({ dimensions: ['hour', 'team'], from: '2026-03-15T00:00:00.000Z' });
    expect(hourTeam.map((r) => [r.groups, r.requests, r.released, r.http])).toEqual([
      [['2026-03-15T09', 'design'], 1, 0, http()],
      [['2026-03-15T10', 'design'], 1, 1, http(0, 0, 0, 1, 1)],
      [['2026-03-16T00', ''], 1, 1, http(1, 1)],
    ]);
    expect((await ledger.usageGrid({ dimensions: ['team'], keyId: 'key_a' })).map((r) => [r.groups, r.images])).toEqual([[['design'], 2]]);
  });

  it('shows a key whose rows were all released as a group with no requests and its released count', async () => {
    const ledger = await make();
    const id = await reserve(ledger, { keyId: 'key_x', at: '2026-03-15T10:00:00.000Z' });
    await ledger.release(id, releaseInput());
    expect((await ledger.usageGrid({ dimensions: ['key'] })).map((r) => [r.groups, r.requests, r.released])).toEqual([[['key_x'], 0, 1]]);
  });

  it("reads each key's newest row of any state, or one key's", async () => {
    const { ledger, keys } = await (await fresh()).open();
    await createKeys(keys, ['key_a', 'key_b', 'key_c', 'key_idle']);
    expect(await ledger.lastUsed()).toEqual(new Map());
    await seed(ledger);
    expect(await ledger.lastUsed()).toEqual(
      new Map([
        ['key_a', '2026-03-15T10:00:00.000Z'],
        ['key_b', '2026-03-15T10:30:00.000Z'],
        ['key_c', '2026-03-16T00:00:00.000Z'],
      ]),
    );
    expect(await ledger.lastUsed('key_b')).toEqual(new Map([['key_b', '2026-03-15T10:30:00.000Z']]));
    expect(await ledger.lastUsed('key_none')).toEqual(new Map());
  });

  it('pages newest first by (created_at, id), ties by id, with filters and flags', async () => {
    const ledger = await make();
    await seed(ledger);
    const ids = async (q: Parameters<LedgerStore['page']>[0]) => (await ledger.page(q)).map((r) => r.id);
    expect(await ids({ limit: 10 })).toEqual(['r6', 'r5', 'r4', 'r3', 'r2', 'r1']);
    expect(await ids({ limit: 2 })).toEqual(['r6', 'r5']);
    expect(await ids({ limit: 2, after: { createdAt: '2026-03-16T00:00:00.000Z', id: 'r6' } })).toEqual(['r5', 'r4']);
    expect(await ids({ limit: 10, after: { createdAt: '2026-03-16T00:00:00.000Z', id: 'r5' } })).toEqual(['r4', 'r3', 'r2', 'r1']);
    expect(await ids({ limit: 10, keyId: 'key_a' })).toEqual(['r3', 'r2', 'r1']);
    expect(await ids({ limit: 10, team: 'design', state: 'settled' })).toEqual(['r4', 'r1']);
    expect(await ids({ limit: 10, outcome: 'failed' })).toEqual(['r3']);
    expect(await ids({ limit: 10, flag: 'unverified' })).toEqual(['r4']);
    expect(await ids({ limit: 10, flag: 'overrun' })).toEqual(['r4']);
    expect(await ids({ limit: 10, flag: 'recovered' })).toEqual(['r5']);
    expect(await ids({ limit: 10, flag: 'open' })).toEqual(['r2']);
    expect(await ids({ limit: 10, from: '2026-03-15T00:00:00.000Z', to: '2026-03-16T00:00:00.000Z' })).toEqual(['r4', 'r3', 'r2']);
    const [row] = await ledger.page({ limit: 1, flag: 'overrun' });
    expect(row).toMatchObject({ id: 'r4', keyId: 'key_b', team: 'design', settledMicro: UNIT + 7, quotedMicro: UNIT, httpStatus: 422, verified: false, overrun: true });
  });

  it('finds a row by its fal request id', async () => {
    const ledger = await make();
    await seed(ledger);
    await ledger.attachFalRequestId('r2', 'fal-123');
    expect((await ledger.page({ limit: 10, falRequestId: 'fal-123' })).map((r) => r.id)).toEqual(['r2']);
  });

  it('reads the totals of many scopes at once, in the order given', async () => {
    const ledger = await make();
    for (let i = 0; i < 70; i++) {
      const id = await reserve(ledger, { keyId: `key_${i}`, quotedMicro: UNIT + i });
      if (i % 2 === 0) await ledger.settle(id, settleInput(i));
    }
    const refs = Array.from({ length: 70 }, (_, i) => scopeRefs(`key:key_${i}`)).flat();
    const totals = await ledger.counterTotals([...refs, { scope: 'key:nobody', bucket: 'all' }]);
    expect(totals).toHaveLength(211);
    for (let i = 0; i < 70; i++) {
      const want = i % 2 === 0 ? { spentMicro: i, reservedMicro: 0 } : { spentMicro: 0, reservedMicro: UNIT + i };
      expect(totals.slice(3 * i, 3 * i + 3)).toEqual([want, want, want]);
    }
    expect(totals[210]).toEqual({ spentMicro: 0, reservedMicro: 0 });
  });
});
