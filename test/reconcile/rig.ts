/**
 * Rig for the reconciliation tests: the simulated fal and the gateway on one controlled clock (so
 * requests land in chosen UTC buckets and buckets can be made old), with the usage API's admin key
 * configured. Requests go over real sockets through the gateway's fal paths.
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { loggerOptions } from '../../src/logger.js';
import { startFalSim, type FalSim, type SimFaults } from '../../src/sim/fal-sim.js';
import { memoryStores, type Stores } from '../../src/store/stores.js';
import { createFalUpstream } from '../../src/upstream/fal-upstream.js';

export const MODEL = '/fal-ai/stable-diffusion-v35-medium';
export const SUBMIT = `/queue${MODEL}`;
export const T0 = Date.parse('2026-03-10T10:00:00.000Z');
export const MIN = 60_000;
export const HOUR = 60 * MIN;

/**
 * A clock that runs at real speed from wherever it was last set: caches keyed on it (the status
 * coalescer's freshness) still expire, while tests choose the bucket a request lands in.
 */
export interface Clock {
  readonly t: number;
  set(iso: string | number): void;
}

export interface Rig {
  app: FastifyInstance;
  url: string;
  sim: FalSim;
  config: Config;
  stores: Stores;
  clock: Clock;
  falKey: string;
  adminKey: string;
  adminToken: string;
  logs: string[];
  key: string;
  close(): Promise<void>;
}

export interface RigOptions {
  env?: Record<string, string>;
  simFaults?: Partial<SimFaults>;
  stores?: Stores;
  /** Put the serving FAL_KEY in FAL_ADMIN_KEY (with the opt-in): fal refuses it on the usage API. */
  servingKeyAsAdmin?: boolean;
  /** Share a sim (and its clock) with another rig: a second instance. */
  shared?: { sim: FalSim; clock: Clock; falKey: string; adminKey: string };
}

export function newClock(start = T0): Clock {
  let offset = start - Date.now();
  return {
    get t() {
      return Date.now() + offset;
    },
    set(v) {
      offset = (typeof v === 'number' ? v : Date.parse(v)) - Date.now();
    },
  };
}

export async function startRig(opts: RigOptions = {}): Promise<Rig> {
  const falKey = opts.shared?.falKey ?? `fal_test_${randomBytes(12).toString('hex')}`;
  const adminKey = opts.shared?.adminKey ?? `fal_admin_${randomBytes(12).toString('hex')}`;
  const adminToken = `admin_${randomBytes(16).toString('hex')}`;
  const clock = opts.shared?.clock ?? newClock();
  const sim = opts.shared?.sim ?? (await startFalSim({ falKey, adminKey, now: () => clock.t, faults: { latencyMs: 5, queueConcurrency: 8, ...opts.simFaults } }));
  const config = loadConfig({
    FAL_KEY: falKey,
    FAL_RUN_URL: sim.runUrl,
    FAL_QUEUE_URL: sim.queueUrl,
    FAL_API_URL: sim.apiUrl,
    FAL_ADMIN_KEY: adminKey,
    ADMIN_TOKEN: adminToken,
    PORT: '0',
    LOG_LEVEL: 'debug',
    SHUTDOWN_GRACE_MS: '500',
    RATE_LIMIT_RPM: '100000',
    ...(opts.servingKeyAsAdmin === true ? { FAL_ADMIN_KEY: falKey, FAL_ADMIN_KEY_MAY_EQUAL_FAL_KEY: 'true' } : {}),
    ...opts.env,
  });
  const logs: string[] = [];
  const logger = pino(loggerOptions(config.logLevel), { write: (line: string) => void logs.push(line) });
  const stores = opts.stores ?? memoryStores();
  const upstream = createFalUpstream({ runUrl: config.falRunUrl, queueUrl: config.falQueueUrl, falKey, userAgent: 'fal-gateway/test' });
  const app = await buildApp({ config, stores, upstream, logger, now: () => new Date(clock.t) });
  // As server.ts does before listening (PRICE_SOURCE=fal reads fal's price here).
  await app.price.start();
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const created = await fetch(`${url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'recon' }) });
  if (created.status !== 201) throw new Error(`key create failed: ${created.status} ${await created.text()}`);
  const { key } = (await created.json()) as { key: string };
  return {
    app,
    url,
    sim,
    config,
    stores,
    clock,
    falKey,
    adminKey,
    adminToken,
    logs,
    key,
    async close() {
      await app.close();
      await upstream.close();
      if (!opts.shared) await sim.close();
      if (!opts.stores) await stores.close();
    },
  };
}

export interface Answer {
  status: number;
  falRequestId: string | null;
  costUsd?: string | null;
  body: string;
}

/** A sync run through the gateway; a broken body (a reset fault) is an answer with status 0. */
export async function run(rig: Rig, body: Record<string, unknown>): Promise<Answer> {
  try {
    const res = await fetch(rig.url + MODEL, { method: 'POST', headers: { authorization: `Key ${rig.key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, falRequestId: res.headers.get('x-fal-request-id'), costUsd: res.headers.get('x-gateway-cost-usd'), body: await res.text().catch(() => '') };
  } catch {
    return { status: 0, falRequestId: null, body: '' };
  }
}

/** Submits, polls until fal says COMPLETED (or 40 s), then `beforeResult` (move the clock), then fetches the result. */
export async function queued(rig: Rig, body: Record<string, unknown>, beforeResult: () => void | Promise<void> = () => undefined): Promise<Answer> {
  const auth = { authorization: `Key ${rig.key}`, 'content-type': 'application/json' };
  const res = await fetch(rig.url + SUBMIT, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  const sub = (await res.json()) as { request_id: string; status_url: string; response_url: string };
  for (let i = 0; i < 2000; i++) {
    const s = (await (await fetch(sub.status_url, { headers: auth })).json()) as { status?: string };
    // Anything but a job still on its way ends the wait (COMPLETED, or an error answer).
    if (s.status !== 'IN_QUEUE' && s.status !== 'IN_PROGRESS') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await beforeResult();
  const result = await fetch(sub.response_url, { headers: auth });
  return { status: result.status, falRequestId: sub.request_id, body: await result.text() };
}

export async function admin(rig: Rig, method: 'GET' | 'POST', path: string, body?: unknown, token = rig.adminToken): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(rig.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

export interface BucketJson {
  start: string;
  status: string;
  note: string | null;
  fal_units: number;
  ledger_units: number;
  difference_units: number;
  difference_usd: string;
  rows: { ledger_id: string; fal_request_id: string | null; reason: string; billed_units: number | null }[];
}

export async function reconcile(rig: Rig, from: string, to: string, bucket = 'hour'): Promise<{ status: number; buckets: BucketJson[]; json: Record<string, unknown> }> {
  const r = await admin(rig, 'POST', '/admin/reconciliation/run', { from, to, bucket });
  return { status: r.status, buckets: (r.json.buckets ?? []) as BucketJson[], json: r.json };
}
