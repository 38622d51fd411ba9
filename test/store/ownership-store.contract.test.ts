/**
 * One contract for every OwnershipStore adapter (SQLite, Postgres; see store-backends.ts).
 * Ownership is made the way a queue submit makes it: a row reserved for a key (and maybe a browser
 * token), then fal's request id attached to it. The race tests use two handles on one database, as
 * two gateway instances would: whatever the interleaving, a request id ends up with exactly one
 * owner that both handles agree on.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { LedgerStore } from '../../src/store/ledger-store.js';
import { reserveInput, settleInput, token, UNIT, type ReserveSpec } from './ledger-fixtures.js';
import { describeBackends } from './store-backends.js';

async function reserveOk(ledger: LedgerStore, spec: ReserveSpec = {}): Promise<string> {
  const result = await ledger.reserve(reserveInput(spec));
  if (!result.ok) throw new Error(`expected a reservation, got ${JSON.stringify(result)}`);
  return result.row.id;
}

describeBackends('OwnershipStore', (fresh) => {
  it('returns null for an unknown request', async () => {
    const { owners } = await (await fresh()).open();
    expect(await owners.ownerOf(randomUUID())).toBeNull();
  });

  it('answers the key of the submit the fal id was attached to, and a token as <key>/<token>', async () => {
    const { ledger, owners } = await (await fresh()).open();
    const [byKey, byToken] = [randomUUID(), randomUUID()];
    const row = await reserveOk(ledger, { keyId: 'key_a' });
    const tokenRow = await reserveOk(ledger, { keyId: 'key_a', token: token('tok_1') });
    // Reserved but not yet attached: nobody owns the id yet.
    expect(await owners.ownerOf(byKey)).toBeNull();
    await ledger.attachFalRequestId(row, byKey);
    await ledger.attachFalRequestId(tokenRow, byToken);
    expect([await owners.ownerOf(byKey), await owners.ownerOf(byToken)]).toEqual(['key_a', 'key_a/tok_1']);
  });

  it('keeps the first owner: the id cannot be attached to another key’s row, and settling does not change it', async () => {
    const { ledger, owners } = await (await fresh()).open();
    const id = randomUUID();
    const mine = await reserveOk(ledger, { keyId: 'key_a' });
    const theirs = await reserveOk(ledger, { keyId: 'key_b' });
    await ledger.attachFalRequestId(mine, id);
    await expect(ledger.attachFalRequestId(mine, id)).resolves.toBeUndefined();
    await expect(ledger.attachFalRequestId(theirs, id)).rejects.toThrow(/cannot be attached/);
    await expect(ledger.settle(theirs, settleInput(UNIT, { falRequestId: id }))).rejects.toThrow(/cannot be attached/);
    expect(await ledger.settle(mine, settleInput(UNIT))).toBe(true);
    expect(await owners.ownerOf(id)).toBe('key_a');
  });

  it('keeps owners of different requests apart', async () => {
    const { ledger, owners } = await (await fresh()).open();
    const [one, two] = [randomUUID(), randomUUID()];
    await ledger.attachFalRequestId(await reserveOk(ledger, { keyId: 'key_a' }), one);
    await ledger.attachFalRequestId(await reserveOk(ledger, { keyId: 'key_b' }), two);
    expect([await owners.ownerOf(one), await owners.ownerOf(two)]).toEqual(['key_a', 'key_b']);
  });

  it('leaves a sync run’s fal id unowned: it is no queue request', async () => {
    const { ledger, owners } = await (await fresh()).open();
    const id = randomUUID();
    const run = await ledger.reserve({ ...reserveInput({ keyId: 'key_a' }), operation: 'run' });
    if (!run.ok) throw new Error('expected a reservation');
    expect(await ledger.settle(run.row.id, settleInput(UNIT, { falRequestId: id }))).toBe(true);
    expect(await ledger.findByFalRequestId(id)).toMatchObject({ operation: 'run', keyId: 'key_a' });
    expect(await owners.ownerOf(id)).toBeNull();
  });

  it('lets exactly one of two concurrent owners win, as seen from both handles', async () => {
    const db = await fresh();
    const [first, second] = [await db.open(), await db.open()];
    const ids = Array.from({ length: 25 }, () => randomUUID());
    await Promise.all(
      ids.map(async (id) => {
        const rows = [await reserveOk(first.ledger, { keyId: 'key_a' }), await reserveOk(second.ledger, { keyId: 'key_b' })] as const;
        const outcomes = await Promise.allSettled([first.ledger.attachFalRequestId(rows[0], id), second.ledger.attachFalRequestId(rows[1], id)]);
        const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i === 0 ? 'key_a' : 'key_b'] : []));
        expect(winners).toHaveLength(1);
        for (const o of outcomes) if (o.status === 'rejected') expect(String(o.reason)).toMatch(/cannot be attached/);
        expect(await first.owners.ownerOf(id)).toBe(winners[0]);
        expect(await second.owners.ownerOf(id)).toBe(winners[0]);
      }),
    );
  });

  it('accepts concurrent attaches of the same id to the same row from two handles', async () => {
    const db = await fresh();
    const [first, second] = [await db.open(), await db.open()];
    const ids = Array.from({ length: 25 }, () => randomUUID());
    await Promise.all(
      ids.map(async (id) => {
        const row = await reserveOk(first.ledger, { keyId: 'key_a' });
        await Promise.all([first.ledger.attachFalRequestId(row, id), second.ledger.attachFalRequestId(row, id)]);
      }),
    );
    for (const id of ids) expect(await second.owners.ownerOf(id)).toBe('key_a');
  });
});
