/** In-memory OwnershipStore: the twin the contract suite and unit tests use. */
import type { OwnershipRecord, OwnershipStore } from '../ownership-store.js';
import { ownerConflict } from '../ownership-store.js';

export class MemoryOwnershipStore implements OwnershipStore {
  private readonly owners = new Map<string, OwnershipRecord>();

  record(rec: OwnershipRecord): Promise<void> {
    const existing = this.owners.get(rec.requestId);
    if (existing === undefined) {
      this.owners.set(rec.requestId, { ...rec });
      return Promise.resolve();
    }
    if (existing.keyId !== rec.keyId) return Promise.reject(ownerConflict(rec.requestId));
    return Promise.resolve();
  }

  ownerOf(requestId: string): Promise<string | null> {
    return Promise.resolve(this.owners.get(requestId)?.keyId ?? null);
  }
}
