/**
 * How the gateway holds fal's webhook keys: cached (at most 24 h, or the answer's max-age), every
 * key tried, fetched again once when a signature matches none (fal rotated its key), and that
 * refetch spaced out so forged deliveries cannot make the gateway hammer fal's key endpoint.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FalKeys } from '../../src/webhooks/fal-keys.js';
import { verifyFalDelivery } from '../../src/webhooks/fal-verify.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function jwksServer(published: () => KeyObject[], cacheControl = 'max-age=86400'): Promise<{ url: string; fetches: () => number }> {
  let fetches = 0;
  server = createServer((_req, res) => {
    fetches++;
    const keys = published().map((k) => ({ kty: 'OKP', crv: 'Ed25519', x: String(k.export({ format: 'jwk' }).x) }));
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': cacheControl }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`, fetches: () => fetches };
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
    const keys = new FalKeys(jwks.url, () => now);
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
    const keys = new FalKeys(jwks.url, () => now);
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
    const keys = new FalKeys(jwks.url, () => now);
    await verifyFalDelivery(keys, signed(k.privateKey, BODY, now / 1000), BODY, now);
    now += 61_000;
    await verifyFalDelivery(keys, signed(k.privateKey, BODY, now / 1000), BODY, now);
    expect(jwks.fetches()).toBe(2);
    const down = new FalKeys('http://127.0.0.1:1/jwks.json', () => now);
    expect(await verifyFalDelivery(down, signed(k.privateKey, BODY, now / 1000), BODY, now)).toEqual({ ok: false, reason: 'keys_unavailable' });
  });
});
