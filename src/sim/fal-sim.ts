/**
 * The simulated fal: the only upstream this project can reach (there is no route to real fal).
 * Three loopback listeners share one state: `runUrl` plays https://fal.run and `queueUrl` plays
 * https://queue.fal.run, because the sync run and the queue submit share the path `MODEL_PATH`
 * (docs/fal-protocol.md §1.1, §2.2, §2.3); `apiUrl` plays https://api.fal.ai (the usage and pricing
 * Platform APIs, §4.1) and serves the webhook JWKS (§2.9). Tests, benchmarks and the demo use it.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MODEL_ID } from '../domain/model.js';
import { AccountBill, DEFAULT_PRICE, checkPrice, type SimPrice } from './account-bill.js';
import { handleApiRequest } from './api-routes.js';
import { CallRecorder } from './call-log.js';
import { DEFAULT_FAULTS, checkFaultPatch } from './faults.js';
import { FileStore } from './file-store.js';
import { sendJson } from './http-io.js';
import { sharedImages } from './images.js';
import { handleQueueRequest } from './queue-routes.js';
import { QueueRunner } from './queue-runner.js';
import { handleRunRequest } from './run-routes.js';
import type { SimCore, SimState } from './sim-state.js';
import type { WebhookAttempt } from './webhook.js';
import { WebhookSigner } from './webhook-signing.js';

export interface SimFaults {
  /** Generation time per request in ms (sync: before responding; queue: IN_PROGRESS duration). */
  latencyMs: number;
  /** ± uniform random added to latencyMs. */
  jitterMs: number;
  /** 0..1 share of calls that fail with runner_server_error (sync 500; queue COMPLETED + error). */
  errorRate: number;
  /** 0..1 share of sync calls answered 429 concurrent_requests_limit. */
  rate429: number;
  /** 0..1 share of run/submit/result calls accepted but never answered. */
  hangRate: number;
  /** 0..1 share of run/submit/result calls cut off mid-body (socket destroyed). */
  resetRate: number;
  /** 0..1 share of run/submit calls never read nor answered (fal never saw them: no job, no bill). */
  hangBeforeBodyRate: number;
  /** Queue jobs IN_PROGRESS at once (fal new accounts: 2). */
  queueConcurrency: number;
  /** Sync calls in flight before answering 429 concurrent_requests_limit. */
  syncConcurrency: number;
  /** Usage API: a billed request is totalled only this many ms after it was billed (late buckets). */
  usageLagMs: number;
  /** Usage API: most buckets per page whatever `limit` asks (0 = no cap): partial pages. */
  usageMaxPageSize: number;
  /** 0..1 share of usage calls answered 429 rate_limited with Retry-After. */
  usageRate429: number;
  /** Retry-After seconds on those 429s. */
  usageRetryAfterS: number;
  /** Retries after a failed webhook delivery (fal: 10). */
  webhookMaxRetries: number;
  /** First retry delay in ms, doubling each retry. */
  webhookBackoffMs: number;
  /** 0..1 share of webhook attempts signed with a key the JWKS does not publish. */
  webhookBadSignatureRate: number;
  /** 0..1 share of accepted webhook deliveries delivered once more. */
  webhookDuplicateRate: number;
}

export interface SimOptions {
  falKey: string;
  host?: string;
  runPort?: number;
  queuePort?: number;
  apiPort?: number;
  /** The account's ADMIN-scope key (usage API). Default `sim-admin-key`; must differ from falKey. */
  adminKey?: string;
  /** `X-Fal-Webhook-User-Id` on webhooks. Default `sim-user`. */
  userId?: string;
  /** The account's price for the model at start. Default $0.02 per "megapixels". */
  price?: SimPrice;
  /** Clock for bills, usage buckets and webhook timestamps (epoch ms). Default Date.now. */
  now?: () => number;
  faults?: Partial<SimFaults>;
  /** Per-image cap after auto_fix; above it the sim answers 422 image_too_large. Default 16. */
  maxMegapixelsPerImage?: number;
  /** Source of randomness for faults, jitter and omitted seeds. Default Math.random. */
  seedRandom?: () => number;
}

export interface SimCall {
  op: 'run' | 'submit' | 'status' | 'stream' | 'result' | 'cancel' | 'file' | 'other';
  method: string;
  /** Path with its query string, e.g. `/fal-ai/stable-diffusion-v35-medium?fal_webhook=...`. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  requestId?: string;
}

export interface SimStats {
  calls: Record<SimCall['op'], number>;
  billedUnits: number;
  billedByRequest: Record<string, number>;
}

export interface FalSim {
  /** Plays https://fal.run, e.g. http://127.0.0.1:40001. Also serves `/files/...` and `/_sim/...`. */
  runUrl: string;
  /** Plays https://queue.fal.run, e.g. http://127.0.0.1:40002. */
  queueUrl: string;
  /** Plays https://api.fal.ai: `${apiUrl}/v1/models/usage`, `${apiUrl}/v1/models/pricing`. */
  apiUrl: string;
  /** The webhook public keys, as fal's https://rest.fal.ai/.well-known/jwks.json. */
  jwksUrl: string;
  /** Sets the account's price; later bills and the pricing API use it. */
  setPrice(p: SimPrice): void;
  /** The usage API counts this billed request twice; throws RangeError if it was never billed. */
  billTwice(requestId: string): void;
  /** Every webhook POST attempt (newest 10,000), oldest first. */
  webhookDeliveries(): WebhookAttempt[];
  /** A snapshot copy. */
  stats(): SimStats;
  /** Every request received (newest 10,000), oldest first; `/_sim/*` control calls are not logged. */
  calls(): SimCall[];
  /** Merges into the current faults; throws RangeError on an unknown key or out-of-range value. */
  setFaults(f: Partial<SimFaults>): void;
  /** Clears stats, calls, bill, jobs, files and webhook log; restores start faults and price. */
  reset(): void;
  /** Closes the listeners and ends hanging sockets, SSE streams, timers and webhook posts. */
  close(): Promise<void>;
}

export async function startFalSim(opts: SimOptions): Promise<FalSim> {
  const initialFaults: SimFaults = { ...DEFAULT_FAULTS, ...validFaults(opts.faults ?? {}) };
  const host = opts.host ?? '127.0.0.1';
  const adminKey = opts.adminKey ?? 'sim-admin-key';
  if (adminKey === opts.falKey) throw new RangeError('adminKey must differ from falKey (the serving key has API scope only)');
  const checkedPrice = checkPrice(opts.price ?? DEFAULT_PRICE);
  if (typeof checkedPrice === 'string') throw new RangeError(checkedPrice);
  const initialPrice: SimPrice = checkedPrice;
  const now = opts.now ?? Date.now;
  let price = { ...initialPrice };
  const bill = new AccountBill(MODEL_ID, now, () => price);
  const core: SimCore = {
    falKey: opts.falKey,
    adminKey,
    now,
    maxMegapixelsPerImage: opts.maxMegapixelsPerImage ?? 16,
    random: opts.seedRandom ?? Math.random,
    faults: { ...initialFaults },
    recorder: new CallRecorder((id, units) => bill.add(id, units)),
    files: new FileStore(),
    images: sharedImages,
    urls: { run: '', queue: '', api: '' },
    bill,
    get price() {
      return price;
    },
    set price(p: SimPrice) {
      price = p;
    },
    signer: new WebhookSigner(opts.userId ?? 'sim-user'),
    webhookLog: [],
    syncInFlight: 0,
    lifetime: new AbortController(),
  };
  const state: SimState = Object.assign(core, { queue: new QueueRunner(core) });
  const runServer = createServer((req, res) => serve(res, handleRunRequest(state, req, res, resetSim)));
  const queueServer = createServer((req, res) => serve(res, handleQueueRequest(state, req, res)));
  const apiServer = createServer((req, res) => serve(res, Promise.resolve().then(() => handleApiRequest(state, req, res))));
  const servers = [runServer, queueServer, apiServer];
  try {
    state.urls.run = await listen(runServer, host, opts.runPort ?? 0);
    state.urls.queue = await listen(queueServer, host, opts.queuePort ?? 0);
    state.urls.api = await listen(apiServer, host, opts.apiPort ?? 0);
  } catch (err) {
    await Promise.all(servers.filter((s) => s.listening).map(closeServer));
    throw err;
  }

  function resetSim(): void {
    state.recorder.clear();
    state.queue.clear();
    state.files.clear();
    state.bill.clear();
    state.webhookLog.length = 0;
    state.faults = { ...initialFaults };
    state.price = { ...initialPrice };
  }

  return {
    runUrl: state.urls.run,
    queueUrl: state.urls.queue,
    apiUrl: state.urls.api,
    jwksUrl: `${state.urls.api}/.well-known/jwks.json`,
    setPrice: (p) => {
      const checked = checkPrice(p);
      if (typeof checked === 'string') throw new RangeError(checked);
      state.price = checked;
    },
    billTwice: (id) => {
      if (!state.bill.billTwice(id)) throw new RangeError(`request ${id} was never billed`);
    },
    webhookDeliveries: () => state.webhookLog.map((a) => ({ ...a })),
    stats: () => state.recorder.stats(),
    calls: () => state.recorder.calls(),
    setFaults: (f) => {
      state.faults = { ...state.faults, ...validFaults(f) };
      state.queue.pump();
    },
    reset: resetSim,
    close: async () => {
      state.lifetime.abort();
      state.queue.clear();
      await Promise.all(servers.map(closeServer));
    },
  };
}

function validFaults(f: Partial<SimFaults>): Partial<SimFaults> {
  const checked = checkFaultPatch(f);
  if (!checked.ok) throw new RangeError(checked.error);
  return checked.patch;
}

/** Unexpected handler failures become a 500 without details; the sim has no logger to leak to. */
function serve(res: ServerResponse, work: Promise<void>): void {
  work.catch(() => {
    if (!res.headersSent) sendJson(res, 500, { detail: 'fal-sim internal error', error_type: 'internal_error' });
    else res.destroy();
  });
}

function listen(server: Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address() as AddressInfo;
      const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve(`http://${shown}:${addr.port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
