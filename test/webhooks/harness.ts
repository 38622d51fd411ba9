/**
 * Webhook test rig over real sockets: the simulated fal (its clock and faults under the test's
 * control), a "tap" in front of the gateway that plays the public address fal delivers to (it
 * forwards every delivery and keeps a copy, so a test can replay one), one or more gateways built
 * from the real app builder, and the caller's receiver, which verifies the gateway's signature
 * against the gateway's JWKS exactly as the README's example does.
 */
import { createHash, createPublicKey, randomBytes, verify, type JsonWebKey } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { loggerOptions } from '../../src/logger.js';
import { MODEL_PATH } from '../../src/domain/model.js';
import { startFalSim, type FalSim, type SimFaults } from '../../src/sim/fal-sim.js';
import { memoryStores, type Stores } from '../../src/store/stores.js';
import { createFalUpstream, type FalUpstream } from '../../src/upstream/fal-upstream.js';

export interface Captured {
  headers: Record<string, string>;
  body: Buffer;
  /** The gateway's answer to it. */
  status: number;
}

export interface Tap {
  url: string;
  captured: Captured[];
  /** Which gateway the next delivery goes to (round robin when several). */
  targets: string[];
  close(): Promise<void>;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function readBody(req: import('node:http').IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const FAL_HEADERS = ['x-fal-webhook-request-id', 'x-fal-webhook-user-id', 'x-fal-webhook-timestamp', 'x-fal-webhook-signature', 'content-type'];

export async function startTap(): Promise<Tap> {
  const state = { captured: [] as Captured[], targets: [] as string[], next: 0 };
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const headers = Object.fromEntries(FAL_HEADERS.flatMap((h) => (typeof req.headers[h] === 'string' ? [[h, req.headers[h]]] : [])));
      const target = state.targets[state.next++ % state.targets.length];
      let status = 502;
      if (target !== undefined) {
        const r = await fetch(`${target}${req.url ?? '/'}`, { method: req.method ?? 'POST', headers, body }).catch(() => null);
        if (r) {
          status = r.status;
          await r.arrayBuffer();
        }
      }
      state.captured.push({ headers, body, status });
      res.writeHead(status).end();
    })();
  });
  const url = await listen(server);
  return {
    url,
    captured: state.captured,
    targets: state.targets,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface Receiver {
  url: string;
  /** Deliveries whose gateway signature verified, in order. */
  accepted: { headers: IncomingHttpHeaders; body: Buffer }[];
  attempts: number;
  /** When each attempt arrived (epoch ms). */
  times: number[];
  forged: number;
  /** Answer 503 to this many more attempts (the receiver "down"). */
  failNext: number;
  close(): Promise<void>;
}

/** Verifies as a receiver would: rebuild fal's message layout from the gateway headers, try every key. */
export async function gatewaySignatureValid(jwksUrl: string, headers: IncomingHttpHeaders, body: Buffer): Promise<boolean> {
  const { keys } = (await (await fetch(jwksUrl)).json()) as { keys: JsonWebKey[] };
  const h = (name: string): string => String(headers[`x-gateway-webhook-${name}`] ?? '');
  if (Math.abs(Date.now() / 1000 - Number(h('timestamp'))) > 300) return false;
  const digest = createHash('sha256').update(body).digest('hex');
  const message = Buffer.from([h('request-id'), h('user-id'), h('timestamp'), digest].join('\n'), 'utf8');
  const signature = Buffer.from(h('signature'), 'hex');
  return keys.some((jwk) => verify(null, message, createPublicKey({ key: jwk, format: 'jwk' }), signature));
}

export async function startReceiver(jwksUrl: () => string): Promise<Receiver> {
  const state = { accepted: [] as Receiver['accepted'], attempts: 0, times: [] as number[], forged: 0, failNext: 0 };
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      state.attempts++;
      state.times.push(Date.now());
      if (state.failNext > 0) {
        state.failNext--;
        res.writeHead(503).end();
        return;
      }
      if (!(await gatewaySignatureValid(jwksUrl(), req.headers, body))) {
        state.forged++;
        res.writeHead(401).end();
        return;
      }
      state.accepted.push({ headers: req.headers, body });
      res.writeHead(204).end();
    })();
  });
  const base = await listen(server);
  return Object.defineProperties(
    { url: `${base}/hook`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) },
    {
      accepted: { get: () => state.accepted },
      attempts: { get: () => state.attempts },
      times: { get: () => state.times },
      forged: { get: () => state.forged },
      failNext: { get: () => state.failNext, set: (n: number) => (state.failNext = n) },
    },
  ) as Receiver;
}

export interface Gateway {
  app: FastifyInstance;
  url: string;
  config: Config;
  stores: Stores;
  logs: string[];
  upstream: FalUpstream;
}

export interface RigOptions {
  simFaults?: Partial<SimFaults>;
  /** Offset of the sim's clock from the real one, in ms (a stale or future-dated signature). */
  simClockOffsetMs?: () => number;
  env?: Record<string, string>;
  /** One store per gateway (default one fresh in-memory SQLite for a single gateway). */
  stores?: Stores[];
  /** Offset of the gateways' clock from the real one, in ms. */
  gatewayClockOffsetMs?: () => number;
}

export interface Rig {
  sim: FalSim;
  tap: Tap;
  gateways: Gateway[];
  adminToken: string;
  close(): Promise<void>;
}

export async function startRig(opts: RigOptions = {}): Promise<Rig> {
  const falKey = `fal_test_${randomBytes(16).toString('hex')}`;
  const adminToken = `admin_${randomBytes(16).toString('hex')}`;
  const simOffset = opts.simClockOffsetMs ?? (() => 0);
  const sim = await startFalSim({ falKey, now: () => Date.now() + simOffset(), faults: { latencyMs: 30, webhookBackoffMs: 50, webhookMaxRetries: 3, ...opts.simFaults } });
  const tap = await startTap();
  const gwOffset = opts.gatewayClockOffsetMs ?? (() => 0);
  const gateways: Gateway[] = [];
  for (const stores of opts.stores ?? [memoryStores()]) {
    const config = loadConfig({
      NODE_ENV: 'test',
      FAL_KEY: falKey,
      FAL_RUN_URL: sim.runUrl,
      FAL_QUEUE_URL: sim.queueUrl,
      ADMIN_TOKEN: adminToken,
      LOG_LEVEL: 'debug',
      SHUTDOWN_GRACE_MS: '500',
      KEY_CACHE_MS: '0',
      WEBHOOK_PUBLIC_URL: tap.url,
      FAL_WEBHOOK_JWKS_URL: sim.jwksUrl,
      WEBHOOK_ALLOW_LOOPBACK_HTTP: 'true',
      WEBHOOK_RELAY_BACKOFF_MS: '50',
      ...opts.env,
    });
    const logs: string[] = [];
    const logger = pino(loggerOptions(config.logLevel), { write: (line: string) => void logs.push(line) });
    const upstream = createFalUpstream({ runUrl: config.falRunUrl, queueUrl: config.falQueueUrl, falKey, userAgent: 'fal-gateway/test' });
    const app = await buildApp({ config, stores, upstream, logger, now: () => new Date(Date.now() + gwOffset()) });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    gateways.push({ app, url, config, stores, logs, upstream });
    tap.targets.push(url);
  }
  return {
    sim,
    tap,
    gateways,
    adminToken,
    async close() {
      for (const g of gateways) {
        await g.app.close();
        await g.upstream.close();
      }
      await sim.close();
      await tap.close();
      for (const g of gateways) await g.stores.close();
    },
  };
}

/** A key allowed to send webhooks under `prefix` (set in the store: the admin API takes https only). */
export async function webhookKey(rig: Rig, prefix: string): Promise<{ id: string; key: string }> {
  const gw = rig.gateways[0];
  if (gw === undefined) throw new Error('no gateway');
  const res = await fetch(`${gw.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${rig.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'hooks' }),
  });
  if (res.status !== 201) throw new Error(`key create failed: ${res.status}`);
  const key = (await res.json()) as { id: string; key: string };
  await gw.stores.keys.update(key.id, { allowedWebhookUrls: [prefix] });
  return key;
}

/** Submits through the gateway's queue door, with the caller's fal_webhook when given. */
export async function submit(gatewayUrl: string, key: string, webhook?: string, body: Record<string, unknown> = { prompt: 'a fox', image_size: { width: 64, height: 64 }, seed: 7 }): Promise<{ status: number; json: Record<string, unknown> }> {
  const q = webhook === undefined ? '' : `?fal_webhook=${encodeURIComponent(webhook)}`;
  const res = await fetch(`${gatewayUrl}/queue${MODEL_PATH}${q}`, {
    method: 'POST',
    headers: { authorization: `Key ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Lets something that should not happen have time to show up. */
export const quiet = (ms = 300): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
