/**
 * Ownership lookups on the hot path. Every status poll asks "does this key own this request?";
 * owners never change once recorded (store/ownership-store.ts), so positive answers are cached in
 * memory, bounded by entries and bytes (memory-bounds.ts), and an owner idle for OWNER_IDLE_MS
 * leaves as new ones arrive. An evicted owner is read from the store again: the cache only saves a
 * lookup. Unknown ids are not cached: another instance may attach them a moment later.
 */
import type { LRUCache } from 'lru-cache';
import { GatewayError } from '../errors.js';
import type { OwnershipStore } from '../store/ownership-store.js';
import { boundedCache, dropExpiredTail, OWNER_CACHE_BOUNDS, OWNER_IDLE_MS, stringBytes, type CacheBounds } from './memory-bounds.js';

interface Entry {
  owner: string;
  /** Last lookup (ms, from `now`). */
  at: number;
}

export class OwnerDirectory {
  private readonly cache: LRUCache<string, Entry>;

  constructor(
    private readonly store: OwnershipStore,
    bounds: CacheBounds = OWNER_CACHE_BOUNDS,
    private readonly idleMs = OWNER_IDLE_MS,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.cache = boundedCache<string, Entry>(bounds, (e, requestId) => stringBytes(e.owner) + stringBytes(requestId));
  }

  /** Entries and estimated bytes held, for tests and diagnostics. */
  get held(): { entries: number; bytes: number } {
    return { entries: this.cache.size, bytes: this.cache.calculatedSize };
  }

  /**
   * Caches the owner of a request this instance just submitted: its ledger row, once the attach of
   * fal's request id landed, is the record the store answers from. `ownerId` is a key id, or
   * `<key id>/<token id>` for a browser token (pipeline/principal.ts).
   */
  recorded(requestId: string, ownerId: string): void {
    this.remember(requestId, ownerId);
  }

  /**
   * Throws 404 unless `keyId` owns `requestId`. Unknown and foreign ids get the same answer, so a
   * caller learns nothing about other keys' requests.
   */
  async assertOwner(requestId: string, may: (owner: string) => boolean): Promise<void> {
    const hit = this.cache.get(requestId);
    let owner = hit?.owner;
    if (hit !== undefined) hit.at = this.now();
    else {
      owner = (await this.store.ownerOf(requestId)) ?? undefined;
      if (owner !== undefined) this.remember(requestId, owner);
    }
    if (owner === undefined || !may(owner)) throw new GatewayError('not_found', 'Request not found');
  }

  private remember(requestId: string, owner: string): void {
    const t = this.now();
    this.cache.set(requestId, { owner, at: t });
    dropExpiredTail(this.cache, (e) => t - e.at >= this.idleMs);
  }
}
