/**
 * One contract for every IdempotencyStore adapter (SQLite, Postgres; see store-backends.ts):
 * the first reply of an idempotent request is kept byte for byte, and expiry forgets old keys.
 */
import { expect, it } from 'vitest';
import type { StoredResponse } from '../../src/store/ledger-store.js';
import { reserveInput } from './ledger-fixtures.js';
import { describeBackends } from './store-backends.js';

const reply: StoredResponse = {
  statusCode: 200,
  headers: { 'content-type': 'application/json', 'x-fal-request-id': 'fal-1' },
  body: Buffer.from([0x7b, 0x00, 0xff, 0x80, 0x7d]),
};

describeBackends('IdempotencyStore', (fresh) => {
  const make = async () => {
    const stores = await (await fresh()).open();
    return { ledger: stores.ledger, idempotency: stores.idempotency };
  };

  async function reserved(ledger: Awaited<ReturnType<typeof make>>['ledger'], idempotencyKey: string, at: string): Promise<string> {
    const result = await ledger.reserve(reserveInput({ idempotencyKey, at }));
    if (!result.ok) throw new Error(`expected a reservation, got ${result.reason}`);
    return result.row.id;
  }

  it('stores a reply and replays it byte for byte', async () => {
    const { ledger, idempotency } = await make();
    const id = await reserved(ledger, 'idem-1', '2026-03-15T12:00:00.000Z');
    expect(await idempotency.getResponse(id)).toBeNull();
    await idempotency.saveResponse(id, reply, '2026-03-15T12:00:01.000Z');
    const replayed = await idempotency.getResponse(id);
    expect(replayed?.statusCode).toBe(200);
    expect(replayed?.headers).toEqual(reply.headers);
    expect(replayed?.body.equals(reply.body)).toBe(true);
  });

  it('keeps the first reply when a second one is saved for the same row', async () => {
    const { ledger, idempotency } = await make();
    const id = await reserved(ledger, 'idem-1', '2026-03-15T12:00:00.000Z');
    await idempotency.saveResponse(id, reply, '2026-03-15T12:00:01.000Z');
    await idempotency.saveResponse(id, { statusCode: 500, headers: {}, body: Buffer.from('later') }, '2026-03-15T12:00:02.000Z');
    expect((await idempotency.getResponse(id))?.statusCode).toBe(200);
  });

  it('refuses a reply for a ledger row that does not exist', async () => {
    const { idempotency } = await make();
    await expect(idempotency.saveResponse('req_missing', reply, '2026-03-15T12:00:00.000Z')).rejects.toThrow(/unknown ledger row/);
    expect(await idempotency.getResponse('req_missing')).toBeNull();
  });

  it('expire forgets keys and replies older than the cutoff, keeps newer ones, and keeps the rows', async () => {
    const { ledger, idempotency } = await make();
    const old = await reserved(ledger, 'idem-old', '2026-03-14T00:00:00.000Z');
    const recent = await reserved(ledger, 'idem-new', '2026-03-15T12:00:00.000Z');
    await idempotency.saveResponse(old, reply, '2026-03-14T00:00:01.000Z');
    await idempotency.saveResponse(recent, reply, '2026-03-15T12:00:01.000Z');

    expect(await idempotency.expire('2026-03-15T00:00:00.000Z')).toBe(1);
    expect(await ledger.findByIdempotencyKey('key_a', 'idem-old')).toBeNull();
    expect(await idempotency.getResponse(old)).toBeNull();
    expect(await ledger.get(old)).toMatchObject({ id: old, idempotencyKey: null, state: 'reserved' });
    expect((await ledger.findByIdempotencyKey('key_a', 'idem-new'))?.id).toBe(recent);
    expect(await idempotency.getResponse(recent)).not.toBeNull();
    // The forgotten key no longer dedupes: the same key starts a new request.
    expect((await ledger.reserve(reserveInput({ idempotencyKey: 'idem-old' }))).ok).toBe(true);
    expect(await idempotency.expire('2026-03-15T00:00:00.000Z')).toBe(0);
  });
});
