/**
 * Results of reconciling the ledger against fal's usage API (services/reconciliation.ts), one row
 * per bucket size and bucket start: saving a bucket again replaces it, so re-running a window never
 * adds to what an earlier run recorded. Also the ledger rows a window needs, and the lease that
 * lets one instance at a time run the scheduled job. On SQLite or Postgres.
 */
import type { LedgerRow } from './ledger-store.js';

export type BucketSize = 'hour' | 'day';
/** `pending`: not judged yet (too recent for fal's totals, or ledger rows still open in it). */
export type BucketStatus = 'matched' | 'difference' | 'pending';

/** Why a ledger row is named next to a bucket's figures. */
export type RowReason = 'units_equal_difference' | 'unverified' | 'recovered' | 'overrun' | 'reserved' | 'released' | 'boundary';

export interface ExplainingRow {
  ledgerId: string;
  falRequestId: string | null;
  reason: RowReason;
  billedUnits: number | null;
  settledMicro: number | null;
}

export interface ReconciliationBucket {
  size: BucketSize;
  /** ISO instants, UTC; [start, end). */
  start: string;
  end: string;
  status: BucketStatus;
  /** A human sentence: why pending, or what the difference is likely to be. */
  note: string | null;
  falUnits: number;
  falMicro: number;
  ledgerUnits: number;
  ledgerMicro: number;
  /** fal − ledger. */
  diffUnits: number;
  diffMicro: number;
  rows: ExplainingRow[];
  checkedAt: string;
}

export interface ReconciliationStore {
  /** Upserts by (size, start). */
  save(buckets: ReconciliationBucket[]): Promise<void>;
  /** Buckets with start in [from, to), oldest first; every size unless `size` is given. */
  list(from: string, to: string, size?: BucketSize): Promise<ReconciliationBucket[]>;
  /**
   * The ledger rows a window [from, to) needs: every row still `reserved` that was created before
   * `to`, and every settled or released row created before `to` whose settled_at is ≥ `from`.
   */
  ledgerRows(from: string, to: string): Promise<LedgerRow[]>;
  /**
   * Takes or renews the lease `name` until `until` (ISO) if it is free at `now` or already
   * `holder`'s. True when this caller holds it afterwards; exactly one of racing callers wins.
   */
  claimLease(name: string, holder: string, now: string, until: string): Promise<boolean>;
}
