/**
 * The Platform API client against misbehaving servers on loopback: a usage API that never answers
 * (timeout), one that answers non-JSON, and one that hands back a cursor it already gave (a loop).
 * Each is a FalPlatformError of its own kind whose message names no key.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { FalPlatformError, createFalPlatform } from '../../src/upstream/fal-platform.js';

const KEY = 'admin-key-never-shown';
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function usageError(apiUrl: string): Promise<FalPlatformError> {
  const platform = createFalPlatform({ apiUrl, adminKey: KEY, priceKey: KEY, timeoutMs: 300 });
  const err: unknown = await platform.usage(new Date('2026-03-10T00:00:00Z'), new Date('2026-03-11T00:00:00Z'), 'hour').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(FalPlatformError);
  expect(String(err)).not.toContain(KEY);
  return err as FalPlatformError;
}

it('gives up on a usage API that does not answer within FAL_API_TIMEOUT_MS', async () => {
  const url = await serve(() => undefined);
  expect((await usageError(url)).kind).toBe('timeout');
});

it('refuses an answer that is not JSON', async () => {
  const url = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'));
  expect((await usageError(url)).kind).toBe('bad_answer');
});

it('stops at a cursor it was already given instead of walking forever', async () => {
  let calls = 0;
  const url = await serve((_req, res) => {
    calls++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ time_series: [], next_cursor: 'Mg==', has_more: true }));
  });
  const err = await usageError(url);
  expect(err.kind).toBe('bad_answer');
  expect(calls).toBe(2);
});

it('sends the key only in the Authorization header, and asks fal for UTC buckets of this endpoint', async () => {
  let seen: { url: string; auth: string | undefined } | undefined;
  const url = await serve((req, res) => {
    seen = { url: req.url ?? '', auth: req.headers.authorization };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ time_series: [{ bucket: '2026-03-10T05:00:00-05:00', results: [{ endpoint_id: 'fal-ai/stable-diffusion-v35-medium', unit: 'megapixels', quantity: 3, unit_price: 0.02, cost: 0.06, currency: 'USD' }] }], next_cursor: null, has_more: false }));
  });
  const usage = await createFalPlatform({ apiUrl: url, adminKey: KEY, priceKey: KEY, timeoutMs: 1000 }).usage(new Date('2026-03-10T00:00:00Z'), new Date('2026-03-11T00:00:00Z'), 'hour');
  expect(seen?.auth).toBe(`Key ${KEY}`);
  expect(seen?.url).not.toContain(KEY);
  expect(seen?.url).toContain('timezone=UTC');
  expect(seen?.url).toContain('endpoint_id=fal-ai%2Fstable-diffusion-v35-medium');
  // fal's offset timestamp is the UTC instant 10:00.
  expect(usage.get(Date.parse('2026-03-10T10:00:00Z'))).toEqual({ start: Date.parse('2026-03-10T10:00:00Z'), units: 3, costMicro: 60_000 });
});
