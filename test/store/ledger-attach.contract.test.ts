/**
 * fal's request id written with one write, on every adapter: a submit's attach is a single UPDATE
 * of its row, which is also the request's ownership record, and a sync run's settlement or release
 * carries the id itself. The id stays unique across rows either way. Which SqlDb entry point the
 * attach takes (one statement through `write`: SQLite group-commits it, Postgres sends it alone,
 * autocommit) is the same store code on both, checked here on SQLite.
 */
import { describe, expect, it } from 'vitest';
import type { LedgerStore } from '../../src/store/ledger-store.js';
import { first, sql, type Op, type Plan, type SqlDb } from '../../src/store/sql/sql-plan.js';
import { openSqliteDb } from '../../src/store/sql/sqlite-db.js';
import { sqlStores } from '../../src/store/stores.js';
import { releaseInput, reserveInput, scopeRefs, settleInput, token, UNIT, type ReserveSpec } from './ledger-fixtures.js';
import { describeBackends } from './store-backends.js';

async function reserveOk(ledger: LedgerStore, spec: ReserveSpec = {}) {
  const result = await ledger.reserve(reserveInput(spec));
  if (!result.ok) throw new Error(`expected a reservation, got ${JSON.stringify(result)}`);
  return result.row;
}

describeBackends('Ledger attach and settlement with a fal id', (fresh) => {
  it('attaches the fal id idempotently, which makes the row\'s key and token its owner, and refuses an id another row has', async () => {
    const stores = await (await fresh()).open();
    const row = await reserveOk(stores.ledger, { keyId: 'key_a', token: token('tok_1') });
    await stores.ledger.attachFalRequestId(row.id, 'fal-1');
    await stores.ledger.attachFalRequestId(row.id, 'fal-1');
    expect(await stores.owners.ownerOf('fal-1')).toBe('key_a/tok_1');
    expect(await stores.ledger.findByFalRequestId('fal-1')).toMatchObject({ id: row.id });

    const other = await reserveOk(stores.ledger, { keyId: 'key_b' });
    await expect(stores.ledger.attachFalRequestId(other.id, 'fal-1')).rejects.toThrow(/cannot be attached/);
    expect(await stores.ledger.get(other.id)).toMatchObject({ falRequestId: null });
    expect(await stores.owners.ownerOf('fal-1')).toBe('key_a/tok_1');
    await expect(stores.ledger.attachFalRequestId(row.id, 'fal-2')).rejects.toThrow(/cannot be attached/);
    expect(await stores.owners.ownerOf('fal-2')).toBeNull();
    await expect(stores.ledger.attachFalRequestId('req_missing', 'fal-3')).rejects.toThrow(/unknown ledger row/);
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

/** A SqlDb that records which entry point ran each plan, and the statements each plan yielded. */
function recording(db: SqlDb, log: { via: string; statements: string[] }[]): SqlDb {
  const tap = <T>(via: string, plan: Plan<T>): Plan<T> => {
    const entry = { via, statements: [] as string[] };
    log.push(entry);
    return (function* () {
      let step = plan.next();
      while (step.done !== true) {
        const op: Op = step.value;
        const name = (o: Exclude<Op, { kind: 'batch' }>) => (o.kind === 'query' ? o.stmt.text.replace(/\s+/g, ' ').slice(0, 40) : `lock ${o.name}`);
        entry.statements.push(op.kind === 'batch' ? `batch${op.final ? ' (final)' : ''}: ${op.ops.map(name).join(' | ')}` : name(op));
        step = plan.next(yield op);
      }
      return step.value;
    })();
  };
  return {
    dialect: db.dialect,
    run: (plan) => db.run(tap('run', plan)),
    write: (plan) => db.write(tap('write', plan)),
    transaction: (plan, flush) => db.transaction(tap('transaction', plan), flush),
    isUniqueViolation: (err) => db.isUniqueViolation(err),
    isForeignKeyViolation: (err) => db.isForeignKeyViolation(err),
    close: () => db.close(),
  };
}

describe('the attach on the wire', () => {
  it('is one final batch (the UPDATE and the legacy owner row), and reads the row back only when it changed none', async () => {
    const log: { via: string; statements: string[] }[] = [];
    const db = openSqliteDb(':memory:');
    const stores = sqlStores(recording(db, log));
    try {
      const row = await reserveOk(stores.ledger, { keyId: 'key_a' });
      log.length = 0;
      await stores.ledger.attachFalRequestId(row.id, 'fal-1');
      const attach = { via: 'transaction', statements: [expect.stringMatching(/^batch \(final\): UPDATE ledger_entries SET fal_request_id.* \| INSERT INTO request_owners.* \| SELECT fgw_guard/)] };
      expect(log).toEqual([attach]);
      // Where an instance of an earlier release looks in a rolling upgrade: the owner is there too.
      const legacy = await db.run(first<{ key_id: string }>(sql('SELECT key_id FROM request_owners WHERE request_id = @r'), { r: 'fal-1' }));
      expect(legacy?.key_id).toBe('key_a');
      log.length = 0;
      await expect(stores.ledger.attachFalRequestId(row.id, 'fal-2')).rejects.toThrow(/cannot be attached/);
      expect(log).toEqual([attach, { via: 'run', statements: [expect.stringMatching(/^SELECT /)] }]);
    } finally {
      await stores.close();
    }
  });
});
