/**
 * Key lifecycle over the wire (issue #10 item 3), on an injected clock: rotation with a grace
 * period, expiry (keys and their browser tokens), owner/metadata, hard delete, and an expiry seen at
 * once by a second instance on the same database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStores, type Stores } from '../../src/store/stores.js';
import { createSchema, dropSchema, postgresSkipReason, postgresUrl } from '../store/store-backends.js';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

const RUN = '/fal-ai/stable-diffusion-v35-medium';
let clock = Date.parse('2026-06-01T12:00:00.000Z');
const now = () => new Date(clock);
let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ now });
});
afterAll(() => gw.close());

const adminOf = (g: TestGateway) => (path: string, init: RequestInit = {}) =>
  fetch(g.url + path, { ...init, headers: { authorization: `Bearer ${g.adminToken}`, 'content-type': 'application/json' } });
const generateOn = (g: TestGateway, credential: string, origin?: string) =>
  fetch(g.url + RUN, {
    method: 'POST',
    headers: { authorization: `Key ${credential}`, 'content-type': 'application/json', ...(origin ? { origin } : {}) },
    body: JSON.stringify(validInput()),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as { detail?: unknown } }));
const admin = (path: string, init: RequestInit = {}) => adminOf(gw)(path, init);
const generate = (credential: string) => generateOn(gw, credential);

describe('POST /admin/keys/:id/rotate', () => {
  it('issues a new secret for the same key; the old one works during the grace and gets 401 after', async () => {
    const { id, key: oldSecret } = await gw.createKey({ name: 'rotate-me', budget_usd: 10 });
    expect((await generate(oldSecret)).status).toBe(200);
    const res = await admin(`/admin/keys/${id}/rotate`, { method: 'POST', body: JSON.stringify({ grace_seconds: 600 }) });
    expect(res.status).toBe(200);
    const rotated = (await res.json()) as { id: string; key: string; budget_usd: number; previous_secret_expires_at: string };
    expect(rotated).toMatchObject({ id, budget_usd: 10, previous_secret_expires_at: new Date(clock + 600_000).toISOString() });
    expect(rotated.key).toMatch(/^fgw_sk_/);
    expect(rotated.key).not.toBe(oldSecret);
    // Shown once: no other view carries it.
    expect(await (await admin(`/admin/keys/${id}`)).text()).not.toContain(rotated.key);

    expect((await generate(oldSecret)).status).toBe(200);
    expect((await generate(rotated.key)).status).toBe(200);
    clock += 600_000 + gw.config.keyCacheMs;
    const late = await generate(oldSecret);
    expect(late.status).toBe(401);
    expect((await generate(rotated.key)).status).toBe(200);
    // History stays with the id: the usage report still has all four runs under it.
    const usage = (await (await admin(`/admin/usage?key_id=${id}&from=2026-01-01&to=2027-01-01`)).json()) as { requests: number };
    expect(usage.requests).toBe(4);
  });

  it('grace_seconds 0 stops the old secret at once; no body means the default grace', async () => {
    const a = await gw.createKey({ name: 'rotate-now' });
    const now0 = await admin(`/admin/keys/${a.id}/rotate`, { method: 'POST', body: JSON.stringify({ grace_seconds: 0 }) });
    expect(((await now0.json()) as { previous_secret_expires_at: unknown }).previous_secret_expires_at).toBeNull();
    expect((await generate(a.key)).status).toBe(401);

    const b = await gw.createKey({ name: 'rotate-default' });
    const def = await fetch(`${gw.url}/admin/keys/${b.id}/rotate`, { method: 'POST', headers: { authorization: `Bearer ${gw.adminToken}` } });
    expect(def.status).toBe(200);
    expect(((await def.json()) as { previous_secret_expires_at: string }).previous_secret_expires_at).toBe(new Date(clock + 3600_000).toISOString());
    expect((await generate(b.key)).status).toBe(200);
  });

  it('refuses a bad grace, an unknown key and a revoked key', async () => {
    const { id } = await gw.createKey({ name: 'rotate-bad' });
    expect((await admin(`/admin/keys/${id}/rotate`, { method: 'POST', body: JSON.stringify({ grace_seconds: -1 }) })).status).toBe(400);
    expect((await admin(`/admin/keys/${id}/rotate`, { method: 'POST', body: JSON.stringify({ grace: 5 }) })).status).toBe(400);
    expect((await admin('/admin/keys/key_nope/rotate', { method: 'POST', body: '{}' })).status).toBe(404);
    await admin(`/admin/keys/${id}`, { method: 'DELETE' });
    expect((await admin(`/admin/keys/${id}/rotate`, { method: 'POST', body: '{}' })).status).toBe(409);
  });
});

describe('/docs', () => {
  it('documents rotate and hard delete, and a live rotation and key view match the schemas', async () => {
    const doc = (await (await fetch(`${gw.url}/docs/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>> };
    const schemaOf = (path: string, method: string) => doc.paths[path]?.[method]?.responses['200']?.content?.['application/json']?.schema ?? {};
    expect(Object.keys(schemaOf('/admin/keys/{id}/rotate', 'post'))).not.toHaveLength(0);
    const { id } = await gw.createKey({ name: 'documented', owner: 'ops', metadata: { a: 1 } });
    const rotated: unknown = await (await admin(`/admin/keys/${id}/rotate`, { method: 'POST', body: '{}' })).json();
    const patched: unknown = await (await admin(`/admin/keys/${id}`, { method: 'PATCH', body: JSON.stringify({ expires_at: '2030-01-01T00:00:00Z' }) })).json();
    const ajv = new Ajv2020({ strict: false });
    expect(ajv.validate(schemaOf('/admin/keys/{id}/rotate', 'post'), rotated), JSON.stringify(ajv.errors)).toBe(true);
    expect(ajv.validate(schemaOf('/admin/keys/{id}', 'patch'), patched), JSON.stringify(ajv.errors)).toBe(true);
  });
});

describe('expires_at, owner and metadata', () => {
  it('an expired key, and a browser token minted from it, get 401 with a clear detail', async () => {
    const expiresAt = new Date(clock + 60_000).toISOString();
    const { id, key } = await gw.createKey({ name: 'expiring', owner: 'ana@example.com', metadata: { app: 'web' }, expires_at: expiresAt });
    expect(await (await admin(`/admin/keys/${id}`)).json()).toMatchObject({ owner: 'ana@example.com', metadata: { app: 'web' }, expires_at: expiresAt });
    const mint = await fetch(`${gw.url}/v1/tokens`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ expires_in: 900 }) });
    expect(mint.status).toBe(201);
    const { token } = (await mint.json()) as { token: string };
    expect((await generate(key)).status).toBe(200);
    expect((await generate(token)).status).toBe(200);

    clock += 60_000;
    for (const credential of [key, token]) {
      const res = await generate(credential);
      expect(res.status).toBe(401);
      expect(res.body.detail).toBe(`This key expired at ${expiresAt}`);
    }
    // Clearing the expiry brings it back.
    expect((await admin(`/admin/keys/${id}`, { method: 'PATCH', body: JSON.stringify({ expires_at: null }) })).status).toBe(200);
    expect((await generate(key)).status).toBe(200);
  });

  it('rejects a malformed expiry and oversized metadata with 400', async () => {
    for (const body of [{ name: 'x', expires_at: 'next tuesday at noon' }, { name: 'x', metadata: { blob: 'x'.repeat(5000) } }]) {
      const res = await admin('/admin/keys', { method: 'POST', body: JSON.stringify(body) });
      expect(res.status).toBe(400);
    }
    expect((await admin('/admin/keys', { method: 'POST', body: JSON.stringify({ name: 'x', metadata: [1] }) })).status).toBe(422);
  });
});

describe('DELETE /admin/keys/:id?hard=true', () => {
  it('is refused with 409 while ledger rows exist, and deletes a key that has none', async () => {
    const used = await gw.createKey({ name: 'used' });
    expect((await generate(used.key)).status).toBe(200);
    const refused = await admin(`/admin/keys/${used.id}?hard=true`, { method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/ledger rows.*revoke it instead/);
    expect((await admin(`/admin/keys/${used.id}`)).status).toBe(200);

    const unused = await gw.createKey({ name: 'unused' });
    const deleted = await admin(`/admin/keys/${unused.id}?hard=true`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect((await admin(`/admin/keys/${unused.id}`)).status).toBe(404);
    expect((await generate(unused.key)).status).toBe(401);
    // Plain DELETE is still revocation.
    const revoked = await admin(`/admin/keys/${used.id}`, { method: 'DELETE' });
    expect(((await revoked.json()) as { revoked_at: unknown }).revoked_at).not.toBeNull();
  });
});

/** One database, two independent handles on it (two instances): a SQLite file, and Postgres when TEST_DATABASE_URL is set. */
const sharedDatabases: { name: string; skip: boolean; open: () => Promise<{ handles: () => Promise<Stores>; dispose: () => Promise<void> }> }[] = [
  {
    name: 'SQLite',
    skip: false,
    open: () => {
      const dir = mkdtempSync(join(tmpdir(), 'fgw-lifecycle-'));
      const url = `sqlite:${join(dir, 'gateway.db')}`;
      return Promise.resolve({ handles: () => openStores(url), dispose: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })) });
    },
  },
  {
    name: 'Postgres',
    skip: postgresSkipReason !== undefined,
    open: async () => {
      const schema = await createSchema();
      return { handles: () => openStores(postgresUrl(), { schema }), dispose: () => dropSchema(schema) };
    },
  },
];

describe.each(sharedDatabases)('two instances on one $name database', ({ skip, open }) => {
  it.skipIf(skip)('an expiry set through one instance holds at once for runs on the other', async () => {
    const db = await open();
    // A long key cache: only the reservation's own read of the key row can refuse in time.
    const env = { KEY_CACHE_MS: '300000' };
    const a = await startTestGateway({ now, env, stores: await db.handles() });
    const b = await startTestGateway({ now, env, stores: await db.handles() });
    try {
      const { id, key } = await a.createKey({ name: 'shared' });
      expect((await generateOn(b, key)).status).toBe(200); // b caches the key now
      const expiresAt = new Date(clock).toISOString();
      expect((await adminOf(a)(`/admin/keys/${id}`, { method: 'PATCH', body: JSON.stringify({ expires_at: expiresAt }) })).status).toBe(200);
      const res = await generateOn(b, key);
      expect(res.status).toBe(401);
      expect(res.body.detail).toBe(`This key expired at ${expiresAt}`);
    } finally {
      await a.close();
      await b.close();
      await db.dispose();
    }
  });
});
