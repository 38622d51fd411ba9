/**
 * The JSON edge of reconciliation results (admin API, CLI --json): snake_case, USD as 6-decimal
 * strings from integer µUSD, and a per-UTC-day roll-up for the console (a day is `difference` if
 * any bucket in it is, else `pending` if any is, else `matched`).
 */
import { microToUsd } from '../domain/pricing.js';
import type { ReconciliationBucket } from '../store/reconciliation-store.js';
import type { ReconcileResult } from './reconciliation.js';

export interface BucketView {
  bucket: 'hour' | 'day';
  start: string;
  end: string;
  status: ReconciliationBucket['status'];
  note: string | null;
  fal_units: number;
  fal_usd: string;
  ledger_units: number;
  ledger_usd: string;
  difference_units: number;
  difference_usd: string;
  rows: { ledger_id: string; fal_request_id: string | null; reason: string; billed_units: number | null; settled_usd: string | null }[];
  checked_at: string;
}

export interface DayView {
  day: string;
  status: ReconciliationBucket['status'];
  buckets: number;
  differences: number;
  pending: number;
  difference_units: number;
  difference_usd: string;
}

export function bucketView(b: ReconciliationBucket): BucketView {
  return {
    bucket: b.size,
    start: b.start,
    end: b.end,
    status: b.status,
    note: b.note,
    fal_units: b.falUnits,
    fal_usd: microToUsd(b.falMicro),
    ledger_units: b.ledgerUnits,
    ledger_usd: microToUsd(b.ledgerMicro),
    difference_units: b.diffUnits,
    difference_usd: microToUsd(b.diffMicro),
    rows: b.rows.map((r) => ({ ledger_id: r.ledgerId, fal_request_id: r.falRequestId, reason: r.reason, billed_units: r.billedUnits, settled_usd: r.settledMicro === null ? null : microToUsd(r.settledMicro) })),
    checked_at: b.checkedAt,
  };
}

export function dayViews(buckets: ReconciliationBucket[]): DayView[] {
  const days = new Map<string, ReconciliationBucket[]>();
  for (const b of buckets) days.set(b.start.slice(0, 10), [...(days.get(b.start.slice(0, 10)) ?? []), b]);
  return [...days.entries()].map(([day, bs]) => {
    const differences = bs.filter((b) => b.status === 'difference');
    const pending = bs.filter((b) => b.status === 'pending').length;
    return {
      day,
      status: differences.length > 0 ? 'difference' : pending > 0 ? 'pending' : 'matched',
      buckets: bs.length,
      differences: differences.length,
      pending,
      difference_units: Math.round(differences.reduce((s, b) => s + b.diffUnits, 0) * 1e9) / 1e9,
      difference_usd: microToUsd(differences.reduce((s, b) => s + b.diffMicro, 0)),
    };
  });
}

export function resultView(r: ReconcileResult): Record<string, unknown> {
  return { from: r.from, to: r.to, bucket: r.size, matched: r.matched, differences: r.differences, pending: r.pending, buckets: r.buckets.map(bucketView), days: dayViews(r.buckets) };
}
