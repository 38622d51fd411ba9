/**
 * Poll coalescing. `@fal-ai/client` polls every 500 ms and Python every 100 ms, per client; relayed
 * one-for-one that traffic would hit fal's queue API. Concurrent polls for one request share a
 * single upstream call (single flight), a fresh answer is reused for `freshMs`, and a COMPLETED
 * status is terminal: it is served from memory without asking fal again. The cache is bounded by
 * entries and bytes (memory-bounds.ts) and drops expired answers from its least recently used end,
 * so it holds about what is being polled now plus recent terminal answers, not every id ever seen.
 */
import type { LRUCache } from 'lru-cache';
import { boundedCache, dropExpiredTail, jsonBytes, stringBytes, type CacheBounds } from './memory-bounds.js';

export interface StatusSnapshot {
  statusCode: number;
  /** fal's parsed status body. */
  body: Record<string, unknown>;
  /** When it was fetched (ms, from the injected clock). */
  at: number;
  terminal: boolean;
}

export interface StatusCoalescerOptions {
  /** How long a non-terminal status is reused. 0 = single flight only. */
  freshMs: number;
  /** How long a terminal status is kept. */
  terminalTtlMs: number;
  /** Upper bounds on cached answers (least recently used evicted first). */
  bounds: CacheBounds;
  now: () => number;
  /** Told how each poll was served, for metrics (observability/metrics.ts). */
  onLookup?: (outcome: 'cache_hit' | 'coalesced' | 'fetched') => void;
}

export type StatusFetcher = (requestId: string, logs: boolean) => Promise<StatusSnapshot>;

export class StatusCoalescer {
  private readonly inflight = new Map<string, Promise<StatusSnapshot>>();
  private readonly cache: LRUCache<string, StatusSnapshot>;

  constructor(
    private readonly fetcher: StatusFetcher,
    private readonly opts: StatusCoalescerOptions,
  ) {
    this.cache = boundedCache<string, StatusSnapshot>(opts.bounds, (snap, key) => stringBytes(key) + jsonBytes(snap.body));
  }

  /** Entries and estimated bytes held, for tests and diagnostics. */
  get held(): { entries: number; bytes: number } {
    return { entries: this.cache.size, bytes: this.cache.calculatedSize };
  }

  /** The current status: cached if fresh (or terminal), else from one shared upstream call. */
  get(requestId: string, logs: boolean): Promise<StatusSnapshot> {
    const key = cacheKey(requestId, logs);
    const cached = this.cache.get(key);
    if (cached && this.usable(cached)) {
      this.opts.onLookup?.('cache_hit');
      return Promise.resolve(cached);
    }
    const pending = this.inflight.get(key);
    this.opts.onLookup?.(pending ? 'coalesced' : 'fetched');
    if (pending) return pending;
    const call = this.fetcher(requestId, logs).then(
      (snap) => {
        this.inflight.delete(key);
        this.store(key, snap);
        return snap;
      },
      (err: unknown) => {
        this.inflight.delete(key);
        throw err;
      },
    );
    this.inflight.set(key, call);
    return call;
  }

  /** A status seen elsewhere (an SSE event relayed to a client) refreshes the cache for free. */
  observe(requestId: string, logs: boolean, snap: StatusSnapshot): void {
    this.store(cacheKey(requestId, logs), snap);
  }

  /** A terminal status already known for this request (either logs variant), if any. */
  terminal(requestId: string): StatusSnapshot | undefined {
    for (const logs of [false, true]) {
      const s = this.cache.get(cacheKey(requestId, logs));
      if (s?.terminal && this.usable(s)) return s;
    }
    return undefined;
  }

  private usable(s: StatusSnapshot): boolean {
    const age = this.opts.now() - s.at;
    return s.terminal ? age < this.opts.terminalTtlMs : age < this.opts.freshMs;
  }

  private store(key: string, snap: StatusSnapshot): void {
    // Only successful answers are reused; errors are shared by concurrent callers, never cached.
    if (snap.statusCode < 200 || snap.statusCode >= 300) return;
    this.cache.set(key, snap);
    // A non-terminal answer is useless after `freshMs`: without this, ids nobody polls any more
    // would sit in the cache until the bound pushed them out.
    dropExpiredTail(this.cache, (s) => !this.usable(s));
  }
}

function cacheKey(requestId: string, logs: boolean): string {
  return logs ? `${requestId}|1` : `${requestId}|0`;
}
