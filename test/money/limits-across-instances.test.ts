/**
 * Issue #9 item 5: two gateways on one database, each with its own key cache (KEY_CACHE_MS set
 * long, so a cached key would stay stale for the whole test). A budget cut, a tightened policy and
 * a revocation made through one instance hold at once on the other: the reservation reads the key
 * row (budgets, max_concurrency, revoked state, policy) inside its own transaction.
 * Backends: two handles on one SQLite file, two pools on one Postgres schema (TEST_DATABASE_URL).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStores, type Stores } from '../../src/store/stores.js';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';
import { createSchema, dropSchema, postgresSkipReason, postgresUrl } from '../store/store-backends.js';

const RUN = '/fal-ai/stable-diffusion-v35-medium';

interface Backend {
  name: string;
  skip?: string;
  open(): Promise<{ a: Stores; b: Stores; dispose: () => Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'sqlite file',
    open: async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'fgw-two-')), 'gw.db');
      return { a: await openStores(`sqlite:${file}`), b: await openStores(`sqlite:${file}`), dispose: () => Promise.resolve() };
    },
  },
  {
    name: 'postgres schema',
    skip: postgresSkipReason,
    open: async () => {
      const schema = await createSchema();
      const a = await openStores(postgresUrl(), { schema });
      const b = await openStores(postgresUrl(), { schema });
      return { a, b, dispose: () => dropSchema(schema) };
    },
  },
];

for (const backend of backends) {
  describe.skipIf(backend.skip !== undefined)(`limits changed on one instance hold on another (${backend.name})`, () => {
    let a: TestGateway;
    let b: TestGateway;
    let dispose: () => Promise<void>;
    beforeAll(async () => {
      const opened = await backend.open();
      dispose = () => opened.dispose();
      const env = { KEY_CACHE_MS: '60000' };
      a = await startTestGateway({ stores: opened.a, env });
      b = await startTestGateway({ stores: opened.b, env });
    });
    afterAll(async () => {
      await a.close();
      await b.close();
      await dispose();
    });

    const admin = (path: string, method: string, body?: unknown) =>
      fetch(a.url + path, { method, headers: { authorization: `Bearer ${a.adminToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const runOnB = async (key: string, extra: Record<string, unknown> = {}) => {
      const r = await fetch(b.url + RUN, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput({ num_images: 4, ...extra })) });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };

    it('a budget cut from $100 to $0.02', async () => {
      const { id, key } = await a.createKey({ name: 'cut', budget_usd: 100, rpm: 100_000 });
      expect((await runOnB(key)).status).toBe(200); // B now caches the $100 key
      expect((await admin(`/admin/keys/${id}`, 'PATCH', { budget_usd: 0.02 })).status).toBe(200);
      const calls = b.sim.stats().calls.run;
      const refused = await Promise.all(Array.from({ length: 9 }, () => runOnB(key)));
      expect(refused.map((r) => r.status)).toEqual(Array(9).fill(402));
      expect(refused[0]?.body).toMatchObject({ error_type: 'budget_exceeded', budget_usd: 0.02, remaining_usd: 0 });
      expect(b.sim.stats().calls.run).toBe(calls);
    });

    it('a tightened policy', async () => {
      const { id, key } = await a.createKey({ name: 'policy', rpm: 100_000 });
      expect((await runOnB(key)).status).toBe(200);
      expect((await admin(`/admin/keys/${id}`, 'PATCH', { policy: { max_num_images: 1 } })).status).toBe(200);
      const calls = b.sim.stats().calls.run;
      const refused = await runOnB(key);
      expect(refused.status).toBe(422);
      expect(refused.body).toMatchObject({ detail: [{ loc: ['body', 'num_images'], type: 'less_than_equal' }] });
      expect(b.sim.stats().calls.run).toBe(calls);
      // Nothing stays reserved for the refused request.
      const usage = (await (await admin(`/admin/usage?key_id=${id}`, 'GET')).json()) as { reserved_usd: number; requests: number };
      expect(usage).toMatchObject({ reserved_usd: 0, requests: 1 });
      expect((await runOnB(key, { num_images: 1 })).status).toBe(200);
    });

    it('a revocation', async () => {
      const { id, key } = await a.createKey({ name: 'revoked', rpm: 100_000 });
      expect((await runOnB(key)).status).toBe(200);
      expect((await admin(`/admin/keys/${id}`, 'DELETE')).status).toBe(200);
      const refused = await runOnB(key);
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ error_type: 'unauthorized' });
    });

    it('a lowered max_concurrency', async () => {
      const { id, key } = await a.createKey({ name: 'conc', rpm: 100_000, max_concurrency: 10 });
      expect((await runOnB(key)).status).toBe(200);
      expect((await admin(`/admin/keys/${id}`, 'PATCH', { max_concurrency: 1 })).status).toBe(200);
      b.sim.setFaults({ latencyMs: 500 });
      try {
        const both = await Promise.all([runOnB(key), runOnB(key)]);
        expect(both.map((r) => r.status).sort()).toEqual([200, 429]);
      } finally {
        b.sim.setFaults({ latencyMs: 5 });
      }
    });
  });
}
