/**
 * Key lookups on the hot path. Every status poll authenticates, and a store lookup per poll was the
 * largest cost the status-path profile showed (BENCHMARKS.md). Answers (including "no such key")
 * are kept for `ttlMs`; any key change made through this instance's admin API clears the cache at
 * once, so revocation is immediate here and takes at most `ttlMs` on other instances (or after a
 * CLI revocation). `ttlMs = 0` turns caching off.
 */
import type { KeyRecord, KeyStore } from '../store/key-store.js';

interface Entry {
  key: KeyRecord | null;
  at: number;
}

export class KeyCache {
  private readonly byHash = new Map<string, Entry>();
  private readonly byId = new Map<string, Entry>();

  constructor(
    private readonly store: KeyStore,
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The active key with this hash, or null. */
  activeByHash(hash: string): Promise<KeyRecord | null> {
    return this.cached(this.byHash, hash, () => this.store.findActiveByHash(hash));
  }

  /** The key with this id (revoked or not), or null: browser tokens look their parent up by id. */
  byKeyId(id: string): Promise<KeyRecord | null> {
    return this.cached(this.byId, id, () => this.store.get(id));
  }

  clear(): void {
    this.byHash.clear();
    this.byId.clear();
  }

  private async cached(map: Map<string, Entry>, k: string, load: () => Promise<KeyRecord | null>): Promise<KeyRecord | null> {
    if (this.ttlMs === 0) return load();
    const hit = map.get(k);
    const t = this.now();
    if (hit && t - hit.at < this.ttlMs) return hit.key;
    const key = await load();
    map.set(k, { key, at: t });
    if (map.size > this.maxEntries) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    return key;
  }
}
