/**
 * Ownership lookups on the hot path. Every status poll asks "does this key own this request?";
 * owners never change once recorded, so positive answers are cached in memory (bounded, oldest
 * evicted). Unknown ids are not cached: another instance may record them a moment later.
 */
import { GatewayError } from '../errors.js';
import type { OwnershipStore } from '../store/ownership-store.js';

export class OwnerDirectory {
  private readonly cache = new Map<string, string>();

  constructor(
    private readonly store: OwnershipStore,
    private readonly maxEntries = 100_000,
  ) {}

  /** `ownerId` is a key id, or `<key id>/<token id>` for a browser token (pipeline/principal.ts). */
  async record(requestId: string, ownerId: string, createdAt: string): Promise<void> {
    await this.store.record({ requestId, ownerId, createdAt });
    this.remember(requestId, ownerId);
  }

  /** Caches an owner recorded elsewhere (the ledger's attach writes it with fal's request id). */
  recorded(requestId: string, ownerId: string): void {
    this.remember(requestId, ownerId);
  }

  /**
   * Throws 404 unless `keyId` owns `requestId`. Unknown and foreign ids get the same answer, so a
   * caller learns nothing about other keys' requests.
   */
  async assertOwner(requestId: string, may: (owner: string) => boolean): Promise<void> {
    let owner = this.cache.get(requestId);
    if (owner === undefined) {
      owner = (await this.store.ownerOf(requestId)) ?? undefined;
      if (owner !== undefined) this.remember(requestId, owner);
    }
    if (owner === undefined || !may(owner)) throw new GatewayError('not_found', 'Request not found');
  }

  private remember(requestId: string, ownerId: string): void {
    this.cache.set(requestId, ownerId);
    if (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
  }
}
