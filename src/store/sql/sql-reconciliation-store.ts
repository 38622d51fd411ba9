/** ReconciliationStore on SQLite or Postgres (sql-plan.ts); migration 17 made its tables. */
import type { LedgerRow } from '../ledger-store.js';
import { instant } from '../ledger-rules.js';
import type { BucketSize, ExplainingRow, ReconciliationBucket, ReconciliationStore } from '../reconciliation-store.js';
import { COLUMNS, toLedgerRow, type SqlLedgerRow } from './sql-ledger-rows.js';
import { query, sql, type SqlDb } from './sql-plan.js';

const UPSERT = sql(
  `INSERT INTO reconciliation_buckets (size, bucket_start, bucket_end, status, note, fal_units, fal_micro, ledger_units, ledger_micro, diff_units, diff_micro, rows_json, checked_at)
   VALUES (@size, @start, @end, @status, @note, @falUnits, @falMicro, @ledgerUnits, @ledgerMicro, @diffUnits, @diffMicro, @rows, @checkedAt)
   ON CONFLICT (size, bucket_start) DO UPDATE SET bucket_end = excluded.bucket_end, status = excluded.status, note = excluded.note,
     fal_units = excluded.fal_units, fal_micro = excluded.fal_micro, ledger_units = excluded.ledger_units, ledger_micro = excluded.ledger_micro,
     diff_units = excluded.diff_units, diff_micro = excluded.diff_micro, rows_json = excluded.rows_json, checked_at = excluded.checked_at`,
);
const SELECT = 'SELECT size, bucket_start, bucket_end, status, note, fal_units, fal_micro, ledger_units, ledger_micro, diff_units, diff_micro, rows_json, checked_at FROM reconciliation_buckets';
const LIST_ALL = sql(`${SELECT} WHERE bucket_start >= @from AND bucket_start < @to ORDER BY bucket_start, size COLLATE "C"`);
const LIST_SIZE = sql(`${SELECT} WHERE size = @size AND bucket_start >= @from AND bucket_start < @to ORDER BY bucket_start`);
/**
 * Two arms, each on its own index (ledger_reserved, ledger_settled_at), in one statement so both
 * read one snapshot. Written as one WHERE with an OR, or with an ORDER BY the planner pushes into
 * the arms, SQLite walked ledger_created_id from the first row ever (created_at < @to): a read of
 * the whole ledger, on the event loop, every reconciliation pass (test/store/index-use.test.ts).
 * The window's rows are sorted here instead.
 */
const LEDGER_ROWS = sql(
  `SELECT ${COLUMNS} FROM ledger_entries WHERE state = 'reserved' AND created_at < @to
   UNION ALL
   SELECT ${COLUMNS} FROM ledger_entries WHERE settled_at >= @from AND state <> 'reserved' AND created_at < @to`,
);
// The lease moves only when it is free (expired) or already the caller's: one winner per race.
const CLAIM = sql(
  `INSERT INTO job_leases (name, holder, lease_until) VALUES (@name, @holder, @until)
   ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until
   WHERE job_leases.lease_until <= @now OR job_leases.holder = excluded.holder`,
);

interface BucketSqlRow {
  size: BucketSize;
  bucket_start: string;
  bucket_end: string;
  status: ReconciliationBucket['status'];
  note: string | null;
  fal_units: number;
  fal_micro: number;
  ledger_units: number;
  ledger_micro: number;
  diff_units: number;
  diff_micro: number;
  rows_json: string;
  checked_at: string;
}

export class SqlReconciliationStore implements ReconciliationStore {
  constructor(private readonly db: SqlDb) {}

  async save(buckets: ReconciliationBucket[]): Promise<void> {
    if (buckets.length === 0) return;
    await this.db.transaction(
      (function* () {
        for (const b of buckets) {
          yield* query(UPSERT, {
            size: b.size,
            start: instant(b.start),
            end: instant(b.end),
            status: b.status,
            note: b.note,
            falUnits: b.falUnits,
            falMicro: b.falMicro,
            ledgerUnits: b.ledgerUnits,
            ledgerMicro: b.ledgerMicro,
            diffUnits: b.diffUnits,
            diffMicro: b.diffMicro,
            rows: JSON.stringify(b.rows),
            checkedAt: instant(b.checkedAt),
          });
        }
      })(),
    );
  }

  async list(from: string, to: string, size?: BucketSize): Promise<ReconciliationBucket[]> {
    const params = { from: instant(from), to: instant(to) };
    const result = await this.db.run(size === undefined ? query<BucketSqlRow>(LIST_ALL, params) : query<BucketSqlRow>(LIST_SIZE, { ...params, size }));
    return result.rows.map(toBucket);
  }

  async ledgerRows(from: string, to: string): Promise<LedgerRow[]> {
    const result = await this.db.run(query<SqlLedgerRow>(LEDGER_ROWS, { from: instant(from), to: instant(to) }));
    // created_at, then id in byte order (ids are ASCII), as the reconciliation reads them.
    return result.rows.map(toLedgerRow).sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async claimLease(name: string, holder: string, now: string, until: string): Promise<boolean> {
    const result = await this.db.run(query(CLAIM, { name, holder, now: instant(now), until: instant(until) }));
    return result.count === 1;
  }
}

function toBucket(r: BucketSqlRow): ReconciliationBucket {
  return {
    size: r.size,
    start: instant(r.bucket_start),
    end: instant(r.bucket_end),
    status: r.status,
    note: r.note,
    falUnits: Number(r.fal_units),
    falMicro: Number(r.fal_micro),
    ledgerUnits: Number(r.ledger_units),
    ledgerMicro: Number(r.ledger_micro),
    diffUnits: Number(r.diff_units),
    diffMicro: Number(r.diff_micro),
    rows: JSON.parse(r.rows_json) as ExplainingRow[],
    checkedAt: instant(r.checked_at),
  };
}
