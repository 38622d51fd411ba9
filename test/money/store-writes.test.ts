/**
 * The money path's writes (issue #12): a sync run writes its reservation and its settlement, the
 * settlement carrying fal's request id, with no write of its own for the id; a queue submit
 * attaches fal's id in one write, which is also the request's ownership record (no owner write of
 * its own). Counted over the wire on a real SQLite
 * store (and Postgres when TEST_DATABASE_URL is set), through a wrapper that records which store
 * methods the gateway calls.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStores, type Stores } from '../../src/store/stores.js';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';
import { createSchema, dropSchema, postgresSkipReason, postgresUrl } from '../store/store-backends.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The same stores, recording `ledger.<method>` and `owners.<method>` for every call. */
function counted(stores: Stores, calls: string[]): Stores {
  const wrap = <T extends object>(name: string, target: T): T =>
    new Proxy(target, {
      get(obj, prop, receiver) {
        const value: unknown = Reflect.get(obj, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]): unknown => {
          calls.push(`${name}.${String(prop)}`);
          return (value as (...a: unknown[]) => unknown).apply(obj, args);
        };
      },
    });
  return { ...stores, ledger: wrap('ledger', stores.ledger), owners: wrap('owners', stores.owners) };
}

const backends: { name: string; skip?: string; open: () => Promise<Stores> }[] = [
  {
    name: 'SQLite',
    open: () => {
      const dir = mkdtempSync(join(tmpdir(), 'fgw-writes-'));
      cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
      return openStores(`sqlite:${join(dir, 'gateway.db')}`);
    },
  },
  {
    name: 'Postgres',
    skip: postgresSkipReason,
    open: async () => {
      const schema = await createSchema();
      cleanups.push(() => dropSchema(schema));
      return openStores(postgresUrl(), { schema });
    },
  },
];

for (const backend of backends) {
  const suite = backend.skip === undefined ? describe : describe.skip;
  suite(`money-path writes on ${backend.name}${backend.skip === undefined ? '' : ` (skipped: ${backend.skip})`}`, () => {
    async function gateway(calls: string[]): Promise<{ gw: TestGateway; key: string }> {
      const gw = await startTestGateway({ stores: counted(await backend.open(), calls) });
      cleanups.push(() => gw.close());
      const { key } = await gw.createKey({ name: 'writes' });
      calls.length = 0;
      return { gw, key };
    }
    const post = (gw: TestGateway, key: string, path: string) =>
      fetch(gw.url + path, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) });

    it('a sync run reserves and settles, and the settlement attaches fal’s request id', async () => {
      const calls: string[] = [];
      const { gw, key } = await gateway(calls);
      const res = await post(gw, key, '/fal-ai/stable-diffusion-v35-medium');
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      const falId = res.headers.get('x-fal-request-id');
      expect(falId).toEqual(expect.any(String));
      const writes = calls.filter((c) => ['ledger.reserve', 'ledger.attachFalRequestId', 'ledger.settle', 'ledger.release'].includes(c));
      expect(writes).toEqual(['ledger.reserve', 'ledger.settle']);
      expect(calls.filter((c) => c.startsWith('owners.'))).toEqual([]);
      expect(await gw.stores.ledger.findByFalRequestId(falId ?? '')).toMatchObject({ state: 'settled', operation: 'run' });
    });

    it('a queue submit attaches fal’s id in one write, which makes it the owner’s to poll', async () => {
      const calls: string[] = [];
      const { gw, key } = await gateway(calls);
      const res = await post(gw, key, '/queue/fal-ai/stable-diffusion-v35-medium');
      expect(res.status).toBe(200);
      const { request_id: requestId, status_url: statusUrl } = (await res.json()) as { request_id: string; status_url: string };
      const writes = calls.filter((c) => ['ledger.reserve', 'ledger.attachFalRequestId', 'ledger.settle', 'ledger.release'].includes(c));
      expect(writes).toEqual(['ledger.reserve', 'ledger.attachFalRequestId']);
      // The submitting instance answers its polls from memory; the store answers every other one.
      expect(calls.filter((c) => c.startsWith('owners.'))).toEqual([]);
      const keyId = (await gw.stores.ledger.findByFalRequestId(requestId))?.keyId;
      expect(await gw.stores.owners.ownerOf(requestId)).toBe(keyId);
      expect(await gw.stores.ledger.findByFalRequestId(requestId)).toMatchObject({ state: 'reserved', operation: 'submit' });
      expect((await fetch(statusUrl, { headers: { authorization: `Key ${key}` } })).status).toBe(200);
    });
  });
}
