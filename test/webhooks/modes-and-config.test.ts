/**
 * Which webhook fal is given in each configuration, idempotency across the relay, a billed late
 * 422 settled from fal's delivery, and the configuration rules (docs: README "Webhooks").
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { MODEL_PATH } from '../../src/domain/model.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startRig, startReceiver, submit, webhookKey, eventually, quiet, type Receiver, type Rig } from './harness.js';

let rig: Rig | undefined;
let receiver: Receiver | undefined;
let plain: TestGateway | undefined;
afterEach(async () => {
  await rig?.close();
  await receiver?.close();
  await plain?.close();
  rig = undefined;
  receiver = undefined;
  plain = undefined;
});

function gw(r: Rig) {
  const g = r.gateways[0];
  if (g === undefined) throw new Error('no gateway');
  return g;
}

const BASE = { FAL_KEY: 'k', NODE_ENV: 'production' };

describe('configuration', () => {
  it('refuses WEBHOOK_SETTLEMENT=true without an address fal can reach', () => {
    expect(() => loadConfig({ ...BASE, WEBHOOK_SETTLEMENT: 'true' })).toThrow(/WEBHOOK_SETTLEMENT=true needs WEBHOOK_PUBLIC_URL/);
    expect(loadConfig({ ...BASE, WEBHOOK_SETTLEMENT: 'true', PUBLIC_URL: 'https://gw.example' }).webhooks).toMatchObject({ settlement: true, publicUrl: 'https://gw.example' });
    expect(loadConfig({ ...BASE, PUBLIC_URL: 'https://gw.example', WEBHOOK_PUBLIC_URL: 'https://hooks.gw.example/' }).webhooks.publicUrl).toBe('https://hooks.gw.example');
    expect(loadConfig({ ...BASE, PUBLIC_URL: 'https://gw.example', WEBHOOK_PUBLIC_URL: 'off' }).webhooks.publicUrl).toBeUndefined();
    expect(() => loadConfig({ ...BASE, PUBLIC_URL: 'https://gw.example', WEBHOOK_PUBLIC_URL: 'off', WEBHOOK_SETTLEMENT: 'true' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...BASE, WEBHOOK_SETTLEMENT: 'yes' })).toThrow(ConfigError);
  });

  it('WEBHOOK_POLL_FALLBACK_MS defaults to 10 min, takes 0 (always poll) to 24 h, and refuses anything else', () => {
    expect(loadConfig(BASE).webhooks.pollFallbackMs).toBe(600_000);
    expect(loadConfig({ ...BASE, WEBHOOK_POLL_FALLBACK_MS: '0' }).webhooks.pollFallbackMs).toBe(0);
    expect(loadConfig({ ...BASE, WEBHOOK_POLL_FALLBACK_MS: '86400000' }).webhooks.pollFallbackMs).toBe(86_400_000);
    for (const bad of ['86400001', '-1', '10m']) {
      expect(() => loadConfig({ ...BASE, WEBHOOK_POLL_FALLBACK_MS: bad })).toThrow(/WEBHOOK_POLL_FALLBACK_MS must be an integer from 0 to 86400000/);
    }
  });

  it('keeps the plain-http loopback setting to tests, and checks WEBHOOK_SIGNING_KEY without printing it', () => {
    expect(() => loadConfig({ ...BASE, WEBHOOK_ALLOW_LOOPBACK_HTTP: 'true' })).toThrow(/tests only/);
    const bad = 'bm90LWEta2V5LXNlY3JldC12YWx1ZQ==';
    let message = '';
    try {
      loadConfig({ ...BASE, WEBHOOK_SIGNING_KEY: bad });
    } catch (err) {
      message = String(err);
    }
    expect(message).toContain('WEBHOOK_SIGNING_KEY must be an Ed25519 private key');
    expect(message).not.toContain(bad);
    const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(loadConfig({ ...BASE, WEBHOOK_SIGNING_KEY: pem }).webhooks.signingKey).toBe(pem.trim());
    expect(loadConfig({ ...BASE }).webhooks).toMatchObject({ falJwksUrl: 'https://rest.fal.ai/.well-known/jwks.json', relayMaxAttempts: 10, relayBackoffMs: 10_000 });
  });
});

describe('what fal is given', () => {
  it('without a webhook public URL, a caller\'s fal_webhook goes to fal unchanged (no relay)', async () => {
    plain = await startTestGateway();
    const key = await plain.createKey({ name: 'h', allowed_webhook_urls: ['https://hooks.example/in'] });
    const res = await fetch(`${plain.url}/queue${MODEL_PATH}?fal_webhook=${encodeURIComponent('https://hooks.example/in/a')}`, {
      method: 'POST',
      headers: { authorization: `Key ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'x', image_size: { width: 64, height: 64 } }),
    });
    expect(res.status).toBe(200);
    const call = plain.sim.calls().find((c) => c.op === 'submit');
    expect(call?.path).toContain(`fal_webhook=${encodeURIComponent('https://hooks.example/in/a')}`);
  });

  it('the gateway\'s own JWKS serves WEBHOOK_SIGNING_KEY\'s public half', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(16).toString('base64');
    rig = await startRig({ env: { WEBHOOK_SIGNING_KEY: seed } });
    const res = await fetch(`${gw(rig).url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('max-age=');
    const body = (await res.json()) as { keys: { x: string; kty: string; crv: string }[] };
    expect(body.keys).toEqual([expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', x: String(publicKey.export({ format: 'jwk' }).x) })]);
  });
});

describe('idempotency and billed errors through the relay', () => {
  it('an idempotent retry replays the submit without a second relay; another fal_webhook with the same key is refused', async () => {
    rig = await startRig();
    const g = gw(rig);
    receiver = await startReceiver(() => `${g.url}/.well-known/jwks.json`);
    const key = await webhookKey(rig, receiver.url.replace(/\/hook$/, ''));
    const send = (hook: string) => fetch(`${g.url}/queue${MODEL_PATH}?fal_webhook=${encodeURIComponent(hook)}`, {
      method: 'POST',
      headers: { authorization: `Key ${key.key}`, 'content-type': 'application/json', 'idempotency-key': 'idem-1' },
      body: JSON.stringify({ prompt: 'x', image_size: { width: 64, height: 64 }, seed: 3 }),
    });
    const first = await send(receiver.url);
    expect(first.status).toBe(200);
    const again = await send(receiver.url);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const other = await send(`${receiver.url}/other`);
    expect(other.status).toBe(422);
    await eventually(() => receiver?.accepted.length === 1, 'the relay');
    await quiet();
    expect(receiver.attempts).toBe(1);
    expect(rig.sim.calls().filter((c) => c.op === 'submit')).toHaveLength(1);
  });

  it('a late 422 (generated, then refused) is settled as fal billed it, from the one result fetch', async () => {
    rig = await startRig();
    const g = gw(rig);
    receiver = await startReceiver(() => `${g.url}/.well-known/jwks.json`);
    const key = await webhookKey(rig, receiver.url);
    const sub = await submit(g.url, key.key, receiver.url, { prompt: 'x [sim:422]', image_size: { width: 64, height: 64 } });
    const requestId = String(sub.json.request_id);
    await eventually(async () => (await g.stores.ledger.findByFalRequestId(requestId))?.state === 'settled', 'the settlement');
    expect(await g.stores.ledger.findByFalRequestId(requestId)).toMatchObject({ settleSource: 'billable_units', settledMicro: 20_000, outcome: 'billed_error' });
    expect(rig.sim.stats().billedByRequest[requestId]).toBe(1);
    expect(rig.sim.calls().filter((c) => c.requestId === requestId && c.op === 'status')).toHaveLength(0);
    await eventually(() => receiver?.accepted.length === 1, 'the relayed ERROR');
  });
});
