/**
 * The simulated fal's public types: its fault knobs, start options, call log, stats and handle.
 * fal-sim.ts re-exports them; see there for what the sim plays.
 */
import type { SimPrice } from './account-bill.js';
import type { WebhookAttempt } from './webhook.js';

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
  /** `usage`, `pricing` and `keys` (the JWKS) arrive on apiUrl; unknown paths there are `other`. */
  op: 'run' | 'submit' | 'status' | 'stream' | 'result' | 'cancel' | 'file' | 'usage' | 'pricing' | 'keys' | 'other';
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
