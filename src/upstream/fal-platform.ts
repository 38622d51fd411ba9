/**
 * Client of fal's Platform APIs (docs/fal-protocol.md §4.1): the usage API (`GET /v1/models/usage`,
 * ADMIN-scope key) and the pricing API (`GET /v1/models/pricing`, any key of the account).
 *
 * The usage API is paginated by an opaque cursor and a page may hold fewer buckets than asked while
 * more follow, so every page is walked until `next_cursor` is null. A 429 is retried after its
 * Retry-After (bounded: a wait above MAX_RETRY_AFTER_MS, or RETRIES_429 refusals in a row, gives
 * up with a clear error rather than hanging a CLI run or a scheduled pass). Keys travel only in the
 * Authorization header; no error or log line here ever includes them.
 */
import { MODEL_ID } from '../domain/model.js';
import { usdToMicro } from '../domain/pricing.js';

export type UsageBucketSize = 'hour' | 'day';

/** One bucket as fal reported it: units and cost summed over its lines for this endpoint. */
export interface FalUsageBucket {
  /** Bucket start, epoch ms (UTC). */
  start: number;
  units: number;
  /** Σ line cost, each line's USD converted to integer µUSD (half-up). */
  costMicro: number;
}

export interface FalPrice {
  /** USD per unit, as fal gives it. */
  unitPrice: number;
  unit: string;
}

export type PlatformErrorKind = 'forbidden' | 'unauthorized' | 'rate_limited' | 'timeout' | 'unreachable' | 'bad_answer' | 'http';

/** A Platform API call that failed; `message` is safe to show an operator (no key, no body dump). */
export class FalPlatformError extends Error {
  constructor(
    readonly kind: PlatformErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'FalPlatformError';
  }
}

export interface FalPlatformOptions {
  apiUrl: string;
  /** ADMIN-scope key for the usage API; without it `usage` throws `forbidden` at once. */
  adminKey: string | undefined;
  /** Key for the pricing API (any key of the account): the admin key if set, else FAL_KEY. */
  priceKey: string | undefined;
  timeoutMs: number;
  /** Waits between 429 retries (tests pass a recorder). */
  sleep?: (ms: number) => Promise<void>;
  userAgent?: string;
}

export interface FalPlatform {
  /** Usage of this endpoint in [from, to) per UTC bucket; buckets without usage are absent. */
  usage(from: Date, to: Date, bucket: UsageBucketSize): Promise<Map<number, FalUsageBucket>>;
  /** This endpoint's price for the account, or null when fal does not list it. */
  price(): Promise<FalPrice | null>;
}

export const MAX_RETRY_AFTER_MS = 60_000;
export const RETRIES_429 = 5;
/** A window of a year in hours is ~9k buckets: far below this, so a cursor loop is caught, not walked forever. */
const MAX_PAGES = 10_000;
const PAGE_LIMIT = 500;

interface UsageLineJson {
  endpoint_id?: unknown;
  unit?: unknown;
  quantity?: unknown;
  cost?: unknown;
}
interface UsagePageJson {
  time_series?: { bucket?: unknown; results?: UsageLineJson[] }[];
  next_cursor?: unknown;
}

export function createFalPlatform(opts: FalPlatformOptions): FalPlatform {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  async function get(path: string, params: URLSearchParams, key: string): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(`${opts.apiUrl}${path}?${params.toString()}`, {
          headers: { authorization: `Key ${key}`, accept: 'application/json', 'user-agent': opts.userAgent ?? 'fal-gateway' },
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
      } catch (err) {
        if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
          throw new FalPlatformError('timeout', `fal ${path} did not answer within ${opts.timeoutMs} ms`);
        }
        throw new FalPlatformError('unreachable', `fal ${path} is unreachable (${err instanceof Error ? err.message : 'network error'})`);
      }
      if (res.status === 429) {
        await res.body?.cancel();
        const waitMs = retryAfterMs(res.headers.get('retry-after'));
        if (attempt >= RETRIES_429 || waitMs > MAX_RETRY_AFTER_MS) {
          throw new FalPlatformError('rate_limited', `fal ${path} kept answering 429 (rate limited) after ${attempt + 1} tries; try again later`);
        }
        await sleep(waitMs);
        continue;
      }
      const text = await readText(res, path, opts.timeoutMs);
      if (res.status === 403) throw new FalPlatformError('forbidden', `fal ${path} answered 403: the key lacks the scope it needs (the usage API needs an ADMIN-scope FAL_ADMIN_KEY)`);
      if (res.status === 401) throw new FalPlatformError('unauthorized', `fal ${path} answered 401: the key is not valid`);
      if (res.status < 200 || res.status >= 300) throw new FalPlatformError('http', `fal ${path} answered HTTP ${res.status}`);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new FalPlatformError('bad_answer', `fal ${path} answered with a body that is not JSON`);
      }
    }
  }

  return {
    async usage(from, to, bucket) {
      if (opts.adminKey === undefined) throw new FalPlatformError('forbidden', 'FAL_ADMIN_KEY is not set: the usage API needs an ADMIN-scope key');
      const out = new Map<number, FalUsageBucket>();
      let cursor: string | null = null;
      const seen = new Set<string>();
      for (let pages = 0; pages < MAX_PAGES; pages++) {
        const params = new URLSearchParams({
          endpoint_id: MODEL_ID,
          start: from.toISOString(),
          end: to.toISOString(),
          timeframe: bucket,
          // fal buckets by this zone (its default is UTC too); asked for explicitly so a changed default cannot shift buckets.
          timezone: 'UTC',
          bound_to_timeframe: 'true',
          expand: 'time_series',
          limit: String(PAGE_LIMIT),
        });
        if (cursor !== null) params.set('cursor', cursor);
        const page = (await get('/v1/models/usage', params, opts.adminKey)) as UsagePageJson;
        addPage(out, page);
        const next = page.next_cursor;
        if (next === null || next === undefined) return out;
        if (typeof next !== 'string' || seen.has(next)) throw new FalPlatformError('bad_answer', 'fal /v1/models/usage returned a cursor it had already returned');
        seen.add(next);
        cursor = next;
      }
      throw new FalPlatformError('bad_answer', `fal /v1/models/usage had more than ${MAX_PAGES} pages`);
    },

    async price() {
      const key = opts.priceKey;
      if (key === undefined) throw new FalPlatformError('unauthorized', 'no fal key to read the pricing API with');
      const body = (await get('/v1/models/pricing', new URLSearchParams({ endpoint_id: MODEL_ID }), key)) as { prices?: unknown };
      if (!Array.isArray(body.prices)) throw new FalPlatformError('bad_answer', 'fal /v1/models/pricing answered without a prices list');
      const line = (body.prices as Record<string, unknown>[]).find((p) => p.endpoint_id === MODEL_ID);
      if (line === undefined) return null;
      if (typeof line.unit_price !== 'number' || !Number.isFinite(line.unit_price) || line.unit_price < 0 || typeof line.unit !== 'string') {
        throw new FalPlatformError('bad_answer', 'fal /v1/models/pricing answered a price line without a numeric unit_price and a unit');
      }
      if (line.currency !== undefined && line.currency !== 'USD') throw new FalPlatformError('bad_answer', `fal prices this endpoint in ${JSON.stringify(line.currency)}, not USD`);
      return { unitPrice: line.unit_price, unit: line.unit };
    },
  };
}

/** Sums a page's lines for this endpoint into `out` (a bucket may in principle span two pages). */
function addPage(out: Map<number, FalUsageBucket>, page: UsagePageJson): void {
  if (page.time_series !== undefined && !Array.isArray(page.time_series)) throw new FalPlatformError('bad_answer', 'fal usage: time_series is not a list');
  for (const entry of page.time_series ?? []) {
    // fal writes an explicit offset (`…-05:00`); Date.parse turns it into the UTC instant.
    const start = typeof entry.bucket === 'string' ? Date.parse(entry.bucket) : NaN;
    if (!Number.isFinite(start) || !Array.isArray(entry.results)) throw new FalPlatformError('bad_answer', 'fal usage: a bucket without a timestamp or results');
    const b = out.get(start) ?? { start, units: 0, costMicro: 0 };
    for (const line of entry.results) {
      if (line.endpoint_id !== MODEL_ID) continue;
      if (typeof line.quantity !== 'number' || typeof line.cost !== 'number' || !Number.isFinite(line.quantity) || !Number.isFinite(line.cost) || line.quantity < 0 || line.cost < 0) {
        throw new FalPlatformError('bad_answer', 'fal usage: a line without numeric quantity and cost');
      }
      b.units += line.quantity;
      b.costMicro += usdToMicro(line.cost);
    }
    out.set(start, b);
  }
}

/** Retry-After in seconds (fal's form) or an HTTP date; missing or unreadable → 1 s. */
export function retryAfterMs(raw: string | null): number {
  if (raw === null || raw.trim() === '') return 1000;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim()) * 1000;
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : 1000;
}

async function readText(res: Response, path: string, timeoutMs: number): Promise<string> {
  try {
    return await res.text();
  } catch {
    throw new FalPlatformError('timeout', `fal ${path} broke off its answer (or took over ${timeoutMs} ms)`);
  }
}
