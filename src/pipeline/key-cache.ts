/**
 * Key lookups on the hot path. Every status poll authenticates, and a store lookup per poll was the
 * largest cost the status-path profile showed (BENCHMARKS.md). Answers (including "no such key")
 * are kept for `ttlMs`; any key change made through this instance's admin API clears the cache at
 * once, so revocation is immediate here and takes at most `ttlMs` on other instances (or after a
 * CLI revocation). `ttlMs = 0` turns caching off. Each map is bounded by entries and bytes
 * (memory-bounds.ts), and expired answers are dropped as new ones arrive: unknown keys are cached
 * too, so a scan with random keys holds about TTL × scan rate entries, never more than the bound.
 */
import type { LRUCache } from 'lru-cache';
import type { KeyRecord, KeyStore } from '../store/key-store.js';
import { boundedCache, dropExpiredTail, jsonBytes, KEY_CACHE_BOUNDS, stringBytes, type CacheBounds } from './memory-bounds.js';

interface Entry {
  key: KeyRecord | null;
  at: number;
}

export class KeyCache {
  private readonly byHash: LRUCache<string, Entry>;
  private readonly byId: LRUCache<string, Entry>;

  constructor(
    private readonly store: KeyStore,
    private readonly ttlMs: number,
    private readonly now: () => number,
    bounds: CacheBounds = KEY_CACHE_BOUNDS,
  ) {
    const size = (e: Entry, k: string): number => stringBytes(k) + (e.key === null ? 0 : jsonBytes(e.key));
    this.byHash = boundedCache(bounds, size);
    this.byId = boundedCache(bounds, size);
  }

  /** Entries and estimated bytes held (both maps), for tests and diagnostics. */
  get held(): { entries: number; bytes: number } {
    return { entries: this.byHash.size + this.byId.size, bytes: this.byHash.calculatedSize + this.byId.calculatedSize };
  }

  /** The active key with this hash (or a replaced secret still in its grace period), or null. */
  activeByHash(hash: string): Promise<KeyRecord | null> {
    return this.cached(this.byHash, hash, () => this.store.findActiveByHash(hash, new Date(this.now()).toISOString()));
  }

  /** The key with this id (revoked or not), or null: browser tokens look their parent up by id. */
  byKeyId(id: string): Promise<KeyRecord | null> {
    return this.cached(this.byId, id, () => this.store.get(id));
  }

  clear(): void {
    this.byHash.clear();
    this.byId.clear();
  }

  private async cached(map: LRUCache<string, Entry>, k: string, load: () => Promise<KeyRecord | null>): Promise<KeyRecord | null> {
    if (this.ttlMs === 0) return load();
    const hit = map.get(k);
    const t = this.now();
    if (hit && t - hit.at < this.ttlMs) return hit.key;
    const key = await load();
    map.set(k, { key, at: t });
    dropExpiredTail(map, (e) => t - e.at >= this.ttlMs);
    return key;
  }
}
