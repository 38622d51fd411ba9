/** In-memory AlertClaimStore: the twin the contract suite and unit tests use. */
import type { AlertClaim, AlertClaimStore } from '../alert-claim-store.js';

export class MemoryAlertClaimStore implements AlertClaimStore {
  private readonly claims = new Set<string>();

  claim(c: AlertClaim): Promise<boolean> {
    const id = JSON.stringify([c.scope, c.bucket, c.threshold]);
    if (this.claims.has(id)) return Promise.resolve(false);
    this.claims.add(id);
    return Promise.resolve(true);
  }
}
