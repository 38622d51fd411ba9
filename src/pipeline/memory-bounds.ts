/**
 * Every in-memory structure the gateway keeps across requests has two bounds, entries and bytes
 * (issue 9 item 11): an entry count alone does not bound memory when entries vary in size (status
 * bodies with logs, key records with long policies). The bounds are LRU caches from lru-cache,
 * which evicts the least recently used entry on either bound and keeps its bookkeeping in arrays
 * preallocated to `max`, so a full cache costs the same as one that just filled.
 *
 * Byte figures are estimates of the V8 heap an entry holds: two bytes per string character (the
 * worst case, V8 uses one for Latin-1) plus a fixed overhead for the entry's slots and object
 * headers. They are meant to bound growth, not to account for every byte.
 */
import { LRUCache } from 'lru-cache';

export interface CacheBounds {
  maxEntries: number;
  maxBytes: number;
}

const MiB = 1024 * 1024;

/** Authentication lookups (pipeline/key-cache.ts), per map (by hash, by id). */
export const KEY_CACHE_BOUNDS: CacheBounds = { maxEntries: 10_000, maxBytes: 8 * MiB };
/** Request owners (pipeline/owner-directory.ts). */
export const OWNER_CACHE_BOUNDS: CacheBounds = { maxEntries: 100_000, maxBytes: 16 * MiB };
/**
 * An owner not looked up for this long leaves the cache: clients poll a request every 0.1–0.5 s
 * while it runs and stop when it is done, so only finished requests idle this long.
 */
export const OWNER_IDLE_MS = 2 * 60_000;
/** Status answers (pipeline/status-coalescer.ts). */
export const STATUS_CACHE_BOUNDS: CacheBounds = { maxEntries: 20_000, maxBytes: 16 * MiB };
/** Copies of streamed answers kept for Idempotency-Key replay, across all requests in flight. */
export const REPLAY_BUFFER_BYTES = 64 * MiB;
/** Requests waiting for their background settlement (pipeline/queue-settler.ts). */
export const SETTLER_MAX_PENDING = 10_000;
/**
 * Rate-limit counters in the in-memory store (@fastify/rate-limit's LocalStore, an LRU by count).
 * Its keys are `g:`/`p:` + a key id or `f:` + a client IP, each under 64 characters, and a counter
 * is three numbers, so 20,000 entries stay under ~6 MiB.
 */
export const RATE_LIMIT_STORE_ENTRIES = 20_000;

/** Per-entry overhead estimate: map slots, the entry object's header and fields. */
export const ENTRY_OVERHEAD_BYTES = 128;

export const stringBytes = (s: string): number => 2 * s.length;

/** Approximate heap bytes of a JSON-like value (status bodies, key records). */
export function jsonBytes(value: unknown): number {
  return 2 * (JSON.stringify(value)?.length ?? 0);
}

/** An LRU cache bounded by `bounds`; `size` estimates one entry's bytes beyond the fixed overhead. */
export function boundedCache<K extends string, V extends object | string>(bounds: CacheBounds, size: (value: V, key: K) => number): LRUCache<K, V> {
  return new LRUCache<K, V>({
    max: bounds.maxEntries,
    maxSize: bounds.maxBytes,
    sizeCalculation: (value, key) => Math.max(1, ENTRY_OVERHEAD_BYTES + size(value, key)),
  });
}

/** A byte allowance shared by many holders: each takes what it buffers and gives it back when done. */
export class ByteBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Takes `n` bytes if they fit under the limit; false (and nothing taken) otherwise. */
  tryTake(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

/** The process-wide allowance for Idempotency-Key replay copies (pipeline/idempotency.ts). */
export const replayBuffers = new ByteBudget(REPLAY_BUFFER_BYTES);

/**
 * Deletes expired entries from the least recently used end, at most `limit` per call, stopping at
 * the first live one. Called on every insert it keeps a cache near "what was used within its TTL"
 * in amortised O(1), instead of letting dead entries sit until the bound pushes them out.
 */
export function dropExpiredTail<K extends string, V extends object | string>(cache: LRUCache<K, V>, expired: (value: V) => boolean, limit = 8): void {
  const dead: K[] = [];
  for (const key of cache.rkeys()) {
    const value = cache.peek(key); // peek: no recency update
    if (value === undefined || !expired(value) || dead.length >= limit) break;
    dead.push(key);
  }
  for (const key of dead) cache.delete(key);
}
