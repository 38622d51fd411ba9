/** In-memory ReconciliationStore: the twin the contract suite and unit tests use. */
import type { LedgerRow } from '../ledger-store.js';
import type { BucketSize, ReconciliationBucket, ReconciliationStore } from '../reconciliation-store.js';

export class MemoryReconciliationStore implements ReconciliationStore {
  private readonly buckets = new Map<string, ReconciliationBucket>();
  private readonly leases = new Map<string, { holder: string; until: number }>();

  /** `rows`: every ledger row (the memory ledger's snapshot). */
  constructor(private readonly rows: () => LedgerRow[]) {}

  save(buckets: ReconciliationBucket[]): Promise<void> {
    for (const b of buckets) this.buckets.set(`${b.size}\n${new Date(b.start).toISOString()}`, structuredClone(b));
    return Promise.resolve();
  }

  list(from: string, to: string, size?: BucketSize): Promise<ReconciliationBucket[]> {
    const [f, t] = [Date.parse(from), Date.parse(to)];
    const out = [...this.buckets.values()]
      .filter((b) => (size === undefined || b.size === size) && Date.parse(b.start) >= f && Date.parse(b.start) < t)
      .sort((a, b) => Date.parse(a.start) - Date.parse(b.start) || a.size.localeCompare(b.size));
    return Promise.resolve(out.map((b) => structuredClone(b)));
  }

  ledgerRows(from: string, to: string): Promise<LedgerRow[]> {
    const [f, t] = [Date.parse(from), Date.parse(to)];
    const picked = this.rows().filter((r) => {
      if (Date.parse(r.createdAt) >= t) return false;
      if (r.state === 'reserved') return true;
      return r.settledAt !== null && Date.parse(r.settledAt) >= f;
    });
    return Promise.resolve(picked.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)));
  }

  claimLease(name: string, holder: string, now: string, until: string): Promise<boolean> {
    const held = this.leases.get(name);
    if (held !== undefined && held.holder !== holder && held.until > Date.parse(now)) return Promise.resolve(false);
    this.leases.set(name, { holder, until: Date.parse(until) });
    return Promise.resolve(true);
  }
}
