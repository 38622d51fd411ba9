/**
 * How the gateway holds fal's webhook keys: cached (at most 24 h, or the answer's max-age), every
 * key tried, fetched again once when a signature matches none (fal rotated its key), every fetch
 * spaced out so forged deliveries cannot make the gateway hammer fal's key endpoint, and the last
 * keys kept verifying (up to 7 days) while that endpoint fails.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FalKeys, STALE_IF_ERROR_MS, type KeyLog } from '../../src/webhooks/fal-keys.js';
import { verifyFalDelivery } from '../../src/webhooks/fal-verify.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

interface Jwks {
  url: string;
  fetches: () => number;
  /** Answer 500 from now on (fal's key endpoint down). */
  failing: boolean;
}

async function jwksServer(published: () => KeyObject[], cacheControl = 'max-age=86400'): Promise<Jwks> {
  let fetches = 0;
  const state = { failing: false };
  server = createServer((_req, res) => {
    fetches++;
    if (state.failing) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('down');
      return;
    }
    const keys = published().map((k) => ({ kty: 'OKP', crv: 'Ed25519', x: String(k.export({ format: 'jwk' }).x) }));
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': cacheControl }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  return Object.defineProperty({ url, fetches: () => fetches }, 'failing', { get: () => state.failing, set: (v: boolean) => (state.failing = v) }) as Jwks;
}

/** The log lines FalKeys writes, as `level: message`. */
function captureLog(): KeyLog & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (_obj, msg) => void lines.push(`warn: ${msg}`), error: (_obj, msg) => void lines.push(`error: ${msg}`) };
}

function signed(privateKey: KeyObject, body: Buffer, timestampS: number): Record<string, string> {
  const digest = createHash('sha256').update(body).digest('hex');
  const message = Buffer.from(`req-1\nuser-1\n${Math.floor(timestampS)}\n${digest}`, 'utf8');
  return {
    'x-fal-webhook-request-id': 'req-1',
    'x-fal-webhook-user-id': 'user-1',
    'x-fal-webhook-timestamp': String(Math.floor(timestampS)),
    'x-fal-webhook-signature': sign(null, message, privateKey).toString('hex'),
  };
}

const BODY = Buffer.from('{"request_id":"req-1","status":"OK","payload":{}}');

describe('fal webhook keys', () => {
  it('tries every published key and fetches once for many deliveries', async () => {
    const one = generateKeyPairSync('ed25519');
    const two = generateKeyPairSync('ed25519');
    const jwks = await jwksServer(() => [one.publicKey, two.publicKey]);
    let now = 1_767_225_600_000;
    const keys = new FalKeys(jwks.url, () => now, captureLog());
    for (const k of [one, two, one]) {
      expect(await verifyFalDelivery(keys, signed(k.privateKey, BODY, now / 1000), BODY, now)).toEqual({ ok: true, requestId: 'req-1', userId: 'user-1' });
    }
    expect(jwks.fetches()).toBe(1);
    now += 24 * 60 * 60_000 + 1;
    await verifyFalDelivery(keys, signed(one.privateKey, BODY, now / 1000), BODY, now);
    expect(jwks.fetches()).toBe(2); // the cache never outlives 24 h
  });

  it('fetches again when fal rotated its key, but not again within the refetch gap for forgeries', async () => {
    const old = generateKeyPairSync('ed25519');
    const rotated = generateKeyPairSync('ed25519');
    const forger = generateKeyPairSync('ed25519');
    let published = [old.publicKey];
    const jwks = await jwksServer(() => published);
    let now = 1_767_225_600_000;
    const keys = new FalKeys(jwks.url, () => now, captureLog());
    expect((await verifyFalDelivery(keys, signed(old.privateKey, BODY, now / 1000), BODY, now)).ok).toBe(true);
    published = [rotated.publicKey];
    now += 60_000;
    expect((await verifyFalDelivery(keys, signed(rotated.privateKey, BODY, now / 1000), BODY, now)).ok).toBe(true);
    expect(jwks.fetches()).toBe(2);
    for (let i = 0; i < 5; i++) {
      expect(await verifyFalDelivery(keys, signed(forger.privateKey, BODY, now / 1000), BODY, now)).toEqual({ ok: false, reason: 'bad_signature' });
    }
    expect(jwks.fetches()).toBe(2);
  });

  it('honours a shorter max-age, and reports keys it cannot fetch as unavailable (fal retries)', async () => {
    const k = generateKeyPairSync('ed25519');
    const jwks = await jwksServer(() => [k.publicKey], 'max-age=60');
    let now = 1_767_225_600_000;
    const keys = new FalKeys(jwks.url, () => now, captureLog());
    await verifyFalDelivery(keys, signed(k.privateKey, BODY, now / 1000), BODY, now);
    now += 61_000;
    await verifyFalDelivery(keys, signed(k.privateKey, BODY, now / 1000), BODY, now);
    expect(jwks.fetches()).toBe(2);
    const down = new FalKeys('http://127.0.0.1:1/jwks.json', () => now, captureLog());
    expect(await verifyFalDelivery(down, signed(k.privateKey, BODY, now / 1000), BODY, now)).toEqual({ ok: false, reason: 'keys_unavailable' });
  });

  it('keeps accepting genuine deliveries with the last keys when the key endpoint fails after their max-age, up to 7 days', async () => {
    const k = generateKeyPairSync('ed25519');
    const jwks = await jwksServer(() => [k.publicKey], 'max-age=60');
    let now = 1_767_225_600_000;
    const log = captureLog();
    const keys = new FalKeys(jwks.url, () => now, log);
    const genuine = () => verifyFalDelivery(keys, signed(k.privateKey, BODY, now / 1000), BODY, now);
    expect((await genuine()).ok).toBe(true);
    jwks.failing = true;
    now += 61_000;
    expect(await genuine()).toEqual({ ok: true, requestId: 'req-1', userId: 'user-1' });
    expect(jwks.fetches()).toBe(2);
    expect(log.lines).toEqual(["warn: fal's webhook key endpoint failed; verifying with the last keys it published"]);
    now += STALE_IF_ERROR_MS - 61_000;
    expect((await genuine()).ok).toBe(true); // exactly 7 days after the last good fetch: still served
    now += 60_000;
    expect(await genuine()).toEqual({ ok: false, reason: 'keys_unavailable' });
    expect(log.lines.at(-1)).toMatch(/^error: .*no usable keys/);
    jwks.failing = false;
    now += 60_000;
    expect((await genuine()).ok).toBe(true); // the endpoint is back: fetched afresh
    expect(jwks.fetches()).toBe(5);
  });

  it('fetches at most once per 30 s gap while the key endpoint fails, however many forged deliveries arrive', async () => {
    const k = generateKeyPairSync('ed25519');
    const forger = generateKeyPairSync('ed25519');
    const jwks = await jwksServer(() => [k.publicKey], 'max-age=60');
    let now = 1_767_225_600_000;
    const keys = new FalKeys(jwks.url, () => now, captureLog());
    expect((await verifyFalDelivery(keys, signed(k.privateKey, BODY, now / 1000), BODY, now)).ok).toBe(true);
    jwks.failing = true;
    now += 61_000; // past max-age: every path (expiry, no signature match) would like to fetch
    const forged = () => verifyFalDelivery(keys, signed(forger.privateKey, BODY, now / 1000), BODY, now);
    const verdicts = await Promise.all(Array.from({ length: 25 }, forged));
    for (let i = 0; i < 25; i++) verdicts.push(await forged());
    expect(verdicts.every((v) => !v.ok && v.reason === 'bad_signature')).toBe(true);
    expect(jwks.fetches()).toBe(2);
    now += 29_000;
    for (let i = 0; i < 10; i++) await forged();
    expect(jwks.fetches()).toBe(2);
    now += 1_000;
    for (let i = 0; i < 10; i++) await forged();
    expect(jwks.fetches()).toBe(3);
    // Without any keys held (a gateway started while the endpoint is down) the gap holds too.
    const cold = new FalKeys(jwks.url, () => now, captureLog());
    const refusals = await Promise.all(Array.from({ length: 50 }, () => verifyFalDelivery(cold, signed(k.privateKey, BODY, now / 1000), BODY, now)));
    expect(refusals.every((v) => !v.ok && v.reason === 'keys_unavailable')).toBe(true);
    expect(jwks.fetches()).toBe(4);
  });
});
