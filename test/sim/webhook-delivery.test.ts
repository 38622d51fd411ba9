import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FalSim, SimFaults } from '../../src/sim/fal-sim.js';
import { signedMessage } from '../../src/sim/webhook-signing.js';
import { startSim, submit, TINY } from './sim-client.js';

interface Delivery { headers: IncomingHttpHeaders; body: Buffer }

let sim: FalSim;
let receiver: Server | undefined;
afterEach(async () => {
  await sim.close();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  receiver = undefined;
});

/** A loopback receiver answering the statuses in `answers` in turn (the last one repeats). */
async function startReceiver(answers: number[]): Promise<{ url: string; got: Delivery[] }> {
  const got: Delivery[] = [];
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks) });
      const status = answers[Math.min(got.length - 1, answers.length - 1)] ?? 200;
      res.writeHead(status, status >= 300 && status < 400 ? { location: 'http://127.0.0.1:1/' } : {}).end();
    });
  });
  await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, got };
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited > 20_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Verifies as fal tells receivers to: rebuild the message, try every published key. */
async function verifies(d: Delivery, body: Buffer = d.body): Promise<boolean> {
  const { keys } = (await (await fetch(sim.jwksUrl)).json()) as { keys: JsonWebKey[] };
  const h = (name: string): string => String(d.headers[name]);
  const message = Buffer.from(signedMessage(h('x-fal-webhook-request-id'), h('x-fal-webhook-user-id'), Number(h('x-fal-webhook-timestamp')), body), 'utf8');
  const signature = Buffer.from(h('x-fal-webhook-signature'), 'hex');
  return keys.some((jwk) => verify(null, message, createPublicKey({ key: jwk, format: 'jwk' }), signature));
}

async function submitWithHook(faults: Partial<SimFaults>, answers: number[], now?: () => number): Promise<{ id: string; got: Delivery[] }> {
  sim = await startSim({ faults: { latencyMs: 5, webhookBackoffMs: 5, ...faults }, userId: 'user-42', ...(now ? { now } : {}) });
  const { url, got } = await startReceiver(answers);
  const job = await submit(sim, { prompt: 'x', image_size: TINY, seed: 1 }, `?fal_webhook=${encodeURIComponent(url)}`);
  return { id: job.request_id, got };
}

/** Lets a retry that should not happen have time to show up. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 200));

describe('signed webhook deliveries', () => {
  it('signs with fal\'s headers over fal\'s message; the published key verifies it and a tampered body fails', async () => {
    const { id, got } = await submitWithHook({}, [200]);
    await waitFor(() => got.length === 1, 'the delivery');
    const [d] = got;
    if (d === undefined) throw new Error('no delivery');
    expect(d.headers['x-fal-webhook-request-id']).toBe(id);
    expect(d.headers['x-fal-webhook-user-id']).toBe('user-42');
    expect(Math.abs(Number(d.headers['x-fal-webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(300);
    expect(d.headers['x-fal-webhook-signature']).toMatch(/^[0-9a-f]{128}$/);
    expect(JSON.parse(d.body.toString('utf8'))).toMatchObject({ request_id: id, status: 'OK' });
    expect(await verifies(d)).toBe(true);
    expect(await verifies(d, Buffer.from(d.body.toString('utf8').replace('"OK"', '"ERROR"')))).toBe(false);
  });

  it('publishes the keys as a JWKS of Ed25519 keys', async () => {
    sim = await startSim();
    const res = await fetch(sim.jwksUrl);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ keys: [expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', x: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) as string })] });
  });

  it('retries a non-2xx answer with backoff and stops at the first 2xx, same request id each time', async () => {
    const { id, got } = await submitWithHook({}, [500, 503, 204]);
    await waitFor(() => got.length === 3, 'three attempts');
    await settle();
    expect(got).toHaveLength(3);
    expect(got.map((d) => d.headers['x-fal-webhook-request-id'])).toEqual([id, id, id]);
    expect(sim.webhookDeliveries().map((a) => [a.attempt, a.status])).toEqual([[0, 500], [1, 503], [2, 204]]);
    for (const d of got) expect(await verifies(d)).toBe(true);
  });

  it('gives up after webhookMaxRetries', async () => {
    const failing = await submitWithHook({ webhookMaxRetries: 2 }, [500]);
    await waitFor(() => failing.got.length === 3, 'three attempts');
    await settle();
    expect(failing.got).toHaveLength(3);
    expect(sim.webhookDeliveries().map((a) => a.status)).toEqual([500, 500, 500]);
  });

  it('treats a 3xx as final, as one version of fal\'s docs says', async () => {
    const redirected = await submitWithHook({}, [302]);
    await waitFor(() => redirected.got.length === 1, 'one attempt');
    await settle();
    expect(redirected.got).toHaveLength(1);
  });
});

describe('webhook fault knobs', () => {
  it('stale deliveries: the sim clock stamps the timestamp, so a validly signed delivery can be 10 min old', async () => {
    const { got } = await submitWithHook({}, [200], () => Date.now() - 600_000);
    await waitFor(() => got.length === 1, 'the delivery');
    const [d] = got;
    if (d === undefined) throw new Error('no delivery');
    expect(Date.now() / 1000 - Number(d.headers['x-fal-webhook-timestamp'])).toBeGreaterThan(590);
    expect(await verifies(d)).toBe(true);
  });

  it('bad signatures: signed with a key the JWKS does not hold, so verification fails', async () => {
    const { got } = await submitWithHook({ webhookBadSignatureRate: 1 }, [200]);
    await waitFor(() => got.length === 1, 'the delivery');
    const [d] = got;
    if (d === undefined) throw new Error('no delivery');
    expect(d.headers['x-fal-webhook-signature']).toMatch(/^[0-9a-f]{128}$/);
    expect(await verifies(d)).toBe(false);
    expect(sim.webhookDeliveries()[0]).toMatchObject({ forged: true, status: 200 });
  });

  it('duplicated deliveries: an accepted delivery arrives once more, same request id and body, validly signed', async () => {
    const { id, got } = await submitWithHook({ webhookDuplicateRate: 1 }, [200]);
    await waitFor(() => got.length === 2, 'two deliveries');
    await settle();
    expect(got).toHaveLength(2);
    expect(got.map((d) => d.headers['x-fal-webhook-request-id'])).toEqual([id, id]);
    expect(got[1]?.body.equals(got[0]?.body ?? Buffer.alloc(0))).toBe(true);
    for (const d of got) expect(await verifies(d)).toBe(true);
    const log = await (await fetch(`${sim.runUrl}/_sim/webhooks`)).json();
    expect(log).toMatchObject([{ duplicate: false }, { duplicate: true }]);
  });
});
