/** In-memory OwnershipStore: the twin the contract suite and unit tests use. */
import type { OwnershipRecord, OwnershipStore } from '../ownership-store.js';
import { attempt } from '../ledger-rules.js';
import { ownerConflict } from '../ownership-store.js';

export class MemoryOwnershipStore implements OwnershipStore {
  private readonly owners = new Map<string, OwnershipRecord>();

  record(rec: OwnershipRecord): Promise<void> {
    return attempt(() => this.recordNow(rec));
  }

  /** Throws, writing nothing, when another owner has the request (the ledger's attach runs it first). */
  assertFree(rec: OwnershipRecord): void {
    const existing = this.owners.get(rec.requestId);
    if (existing !== undefined && existing.ownerId !== rec.ownerId) throw ownerConflict(rec.requestId);
  }

  recordNow(rec: OwnershipRecord): void {
    this.assertFree(rec);
    if (!this.owners.has(rec.requestId)) this.owners.set(rec.requestId, { ...rec });
  }

  ownerOf(requestId: string): Promise<string | null> {
    return Promise.resolve(this.owners.get(requestId)?.ownerId ?? null);
  }
}
