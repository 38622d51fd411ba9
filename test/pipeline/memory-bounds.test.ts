/**
 * Every in-memory structure stays under its entry and byte bounds when filled far past them
 * (issue 9 item 11), and a lookup that missed the cache still answers from the store.
 */
import { Readable } from 'node:stream';
import Fastify from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { generateKeyId, hashKey } from '../../src/domain/keys.js';
import type { PipelineContext } from '../../src/pipeline/context.js';
import { teeForReplay } from '../../src/pipeline/idempotency.js';
import { KeyCache } from '../../src/pipeline/key-cache.js';
import { RateLimits } from '../../src/pipeline/limits.js';
import { ByteBudget, type CacheBounds } from '../../src/pipeline/memory-bounds.js';
import { OwnerDirectory } from '../../src/pipeline/owner-directory.js';
import { QueueSettler } from '../../src/pipeline/queue-settler.js';
import { StatusCoalescer, type StatusSnapshot } from '../../src/pipeline/status-coalescer.js';
import type { StoredResponse } from '../../src/store/ledger-store.js';
import { memoryStores, type Stores } from '../../src/store/stores.js';
import { reserveInput } from '../store/ledger-fixtures.js';

/**
 * Queue submits of `key-a` as the pipeline makes them: a row reserved, fal's id attached (the
 * store's ownership record), then the owner cached by the directory. In batches, so SQLite group
 * commits them.
 */
async function submitted(stores: Stores, owners: OwnerDirectory, falIds: string[]): Promise<void> {
  for (let i = 0; i < falIds.length; i += 250) {
    await Promise.all(
      falIds.slice(i, i + 250).map(async (id) => {
        const r = await stores.ledger.reserve(reserveInput({ keyId: 'key-a' }));
        if (!r.ok) throw new Error('expected a reservation');
        await stores.ledger.attachFalRequestId(r.row.id, id);
        owners.recorded(id, 'key-a');
      }),
    );
  }
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

const under = (held: { entries: number; bytes: number }, b: CacheBounds, maps = 1) => {
  expect(held.entries).toBeGreaterThan(0);
  expect(held.entries).toBeLessThanOrEqual(b.maxEntries * maps);
  expect(held.bytes).toBeLessThanOrEqual(b.maxBytes * maps);
};

describe('cache bounds', () => {
  it('key cache: a scan with 5,000 unknown keys and long-policy records stays under both bounds', async () => {
    const store = memoryStores().keys;
    const bounds = { maxEntries: 50, maxBytes: 20_000 };
    const cache = new KeyCache(store, 60_000, () => 0, bounds);
    for (let i = 0; i < 5000; i++) await cache.activeByHash(hashKey(`unknown-${i}`));
    under(cache.held, bounds, 2);
    expect(cache.held.entries).toBe(50); // entries bind first for small entries
    // Records of ~2 KB each: the byte bound binds before the entry bound.
    for (let i = 0; i < 40; i++) {
      const id = generateKeyId();
      const origins = Array.from({ length: 40 }, (_, j) => `https://app-${i}-${j}.example`);
      await store.create({ id, name: `k${i}`, team: null, kind: 'secret', hash: hashKey(`s${i}`), prefix: 'fgw_sk_abcd', budgetMicroUsd: null, budgetDailyMicroUsd: null, budgetMonthlyMicroUsd: null, rpm: null, maxConcurrency: null, allowedWebhookUrls: [], allowedOrigins: origins, policy: null, createdAt: new Date().toISOString() });
      expect((await cache.byKeyId(id))?.id).toBe(id);
    }
    under(cache.held, bounds, 2);
    expect(cache.held.entries).toBeLessThan(100);
  });

  it('owner directory: 10,000 requests stay under both bounds and evicted owners come from the store', async () => {
    const stores = memoryStores();
    const bounds = { maxEntries: 100, maxBytes: 30_000 };
    const owners = new OwnerDirectory(stores.owners, bounds);
    await submitted(stores, owners, ids('req', 10_000));
    under(owners.held, bounds);
    // req-0 was evicted long ago: the store still knows its owner, and still refuses another key.
    await expect(owners.assertOwner('req-0', (o) => o === 'key-a')).resolves.toBeUndefined();
    await expect(owners.assertOwner('req-1', (o) => o === 'key-b')).rejects.toMatchObject({ code: 'not_found' });
    under(owners.held, bounds);
  });

  it('owner and key caches drop entries idle past their TTL as new ones arrive', async () => {
    let t = 0;
    const stores = memoryStores();
    const owners = new OwnerDirectory(stores.owners, { maxEntries: 10_000, maxBytes: 10_000_000 }, 120_000, () => t);
    await submitted(stores, owners, ids('old', 100));
    await owners.assertOwner('old-0', (o) => o === 'key-a'); // a lookup keeps old-0 alive
    t += 120_000;
    await submitted(stores, owners, ids('new', 20));
    expect(owners.held.entries).toBeLessThanOrEqual(21);
    await expect(owners.assertOwner('old-5', (o) => o === 'key-a')).resolves.toBeUndefined(); // from the store

    let k = 0;
    const keys = new KeyCache(memoryStores().keys, 2000, () => k, { maxEntries: 10_000, maxBytes: 10_000_000 });
    for (let i = 0; i < 100; i++) await keys.activeByHash(hashKey(`scan-${i}`));
    k += 2000;
    for (let i = 0; i < 20; i++) await keys.activeByHash(hashKey(`later-${i}`));
    expect(keys.held.entries).toBeLessThanOrEqual(20);
  });

  it('status cache: large status bodies stay under the byte bound and expired answers are dropped', async () => {
    let t = 0;
    const logs = (n: number) => Array.from({ length: n }, (_, i) => ({ message: `step ${i} `.repeat(10), timestamp: '2026-01-01T00:00:00Z' }));
    const fetcher = (id: string, withLogs: boolean): Promise<StatusSnapshot> =>
      Promise.resolve({ statusCode: 200, body: { status: 'IN_PROGRESS', request_id: id, logs: withLogs ? logs(20) : [] }, at: t, terminal: false });
    const bounds = { maxEntries: 1000, maxBytes: 50_000 };
    const statuses = new StatusCoalescer(fetcher, { freshMs: 250, terminalTtlMs: 600_000, bounds, now: () => t });
    for (let i = 0; i < 2000; i++) await statuses.get(`req-${i}`, true);
    under(statuses.held, bounds);
    expect(statuses.held.entries).toBeLessThan(100); // ~5 KB bodies: bytes bind long before entries
    // Small bodies, then time passes: every later store prunes expired answers from the old end.
    for (let i = 0; i < 500; i++) await statuses.get(`small-${i}`, false);
    const before = statuses.held.entries;
    t += 1000;
    for (let i = 0; i < 50; i++) await statuses.get(`later-${i}`, false);
    expect(statuses.held.entries).toBeLessThan(before);
  });

  it('replay buffers: concurrent idempotent answers never hold more than the shared allowance', async () => {
    const saved: string[] = [];
    const ctx = { stores: { idempotency: { saveResponse: (id: string, _r: StoredResponse) => Promise.resolve(void saved.push(id)) } }, now: () => new Date() } as unknown as PipelineContext;
    const budget = new ByteBudget(10_000);
    const log = pino({ level: 'silent' });
    let peak = 0;
    const streams = Array.from({ length: 8 }, (_, i) => {
      const body = new Readable({ read() {} });
      const out = teeForReplay(ctx, `row-${i}`, 200, {}, body, log, budget);
      out.resume();
      return { body, ended: new Promise((r) => out.on('end', r)) };
    });
    for (let chunk = 0; chunk < 4; chunk++) {
      for (const s of streams) s.body.push(Buffer.alloc(1000));
      await new Promise((r) => setImmediate(r));
      peak = Math.max(peak, budget.inUse);
      expect(budget.inUse).toBeLessThanOrEqual(10_000);
    }
    streams.forEach((s) => s.body.push(null));
    await Promise.all(streams.map((s) => s.ended));
    await new Promise((r) => setImmediate(r));
    expect(peak).toBeGreaterThan(0);
    expect(saved.length).toBeGreaterThan(0); // the copies that fitted were stored…
    expect(saved.length).toBeLessThan(8); // …the others were dropped, not buffered past the bound
    expect(budget.inUse).toBe(0); // and every byte was given back
  });

  it('replay buffers: a body that fails mid-way gives its bytes back', async () => {
    const ctx = { stores: { idempotency: { saveResponse: () => Promise.resolve() } }, now: () => new Date() } as unknown as PipelineContext;
    const budget = new ByteBudget(10_000);
    const body = new Readable({ read() {} });
    const out = teeForReplay(ctx, 'row', 200, {}, body, pino({ level: 'silent' }), budget);
    out.on('error', () => undefined).resume();
    body.push(Buffer.alloc(3000));
    await new Promise((r) => setImmediate(r));
    expect(budget.inUse).toBe(3000);
    body.destroy(new Error('reset'));
    await new Promise((r) => setImmediate(r));
    expect(budget.inUse).toBe(0);
  });

  it('queue settler: past its bound a COMPLETED status schedules nothing (the reconciler settles it)', () => {
    const ctx = { stores: memoryStores() } as unknown as PipelineContext;
    const settler = new QueueSettler(ctx, pino({ level: 'silent' }), 50);
    for (let i = 0; i < 1000; i++) settler.onStatus(`req-${i}`, { status: 'COMPLETED' });
    expect(settler.pending).toBe(50);
  });

  it('rate-limit store: the in-memory counters are an LRU of the configured size', async () => {
    const app = Fastify();
    const limits = await RateLimits.register(app, loadConfig({ FAL_KEY: 'k', ADMIN_TOKEN: 'a'.repeat(32), RATE_LIMIT_RPM: '100' }), undefined, 3);
    app.get('/:key', async (req, reply) => {
      await limits.check(req, reply, (req.params as { key: string }).key, null, 'generation');
      return 'ok';
    });
    const remaining = async (key: string) => Number((await app.inject(`/${key}`)).headers['x-ratelimit-remaining']);
    expect(await remaining('a')).toBe(99);
    expect(await remaining('a')).toBe(98);
    for (const k of ['b', 'c', 'd']) await remaining(k);
    // 'a' was the least recently used of 4 counters in a 3-entry store: evicted, so it starts over.
    expect(await remaining('a')).toBe(99);
    await app.close();
  });
});
