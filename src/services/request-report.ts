/**
 * `GET /admin/requests`: ledger rows newest first, a page at a time. The cursor is the last row's
 * (created_at, id), opaque to clients: rows inserted while a client pages arrive newer than any
 * cursor, so every row that existed at the first page is returned exactly once. (A row whose
 * created_at is already behind the cursor when it becomes visible, from a lagging instance clock
 * or a commit after the page was read, is not shown to that paging; docs/design.md §1.4.)
 * Image URLs are not in the ledger and not in this report.
 */
import { microToUsdNumber } from '../domain/pricing.js';
import { isOverrun } from '../store/ledger-fresh-limits.js';
import type { LedgerPageQuery, LedgerRow, LedgerStore } from '../store/ledger-store.js';
import type { KeyNames } from './usage-report.js';
import { csvDocument } from './report-format.js';

export const MAX_PAGE = 500;
export const DEFAULT_PAGE = 100;

export function encodeCursor(row: Pick<LedgerRow, 'createdAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([row.createdAt, row.id])).toString('base64url');
}

/** The position a cursor names, or null when it is not one this gateway issued. */
export function decodeCursor(cursor: string): { createdAt: string; id: string } | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 2) return null;
    const [createdAt, id] = v as unknown[];
    if (typeof createdAt !== 'string' || typeof id !== 'string' || Number.isNaN(Date.parse(createdAt)) || id.length === 0) return null;
    return { createdAt, id };
  } catch {
    return null;
  }
}

function rowView(r: LedgerRow, names: KeyNames) {
  return {
    id: r.id,
    created_at: r.createdAt,
    settled_at: r.settledAt,
    key_id: r.keyId,
    key_name: names.get(r.keyId)?.name ?? null,
    team: r.team,
    operation: r.operation,
    state: r.state,
    outcome: r.outcome,
    http_status: r.httpStatus,
    megapixels: r.requestedMegapixels,
    images: r.images,
    quoted_usd: microToUsdNumber(r.quotedMicro),
    cost_usd: r.settledMicro === null ? null : microToUsdNumber(r.settledMicro),
    billed_units: r.billedUnits,
    settle_source: r.settleSource,
    flags: {
      unverified: r.verified === false,
      recovered: r.outcome === 'recovered',
      overrun: r.state === 'settled' && isOverrun(r.settledMicro, r.quotedMicro),
      open: r.state === 'reserved',
    },
    fal_request_id: r.falRequestId,
    end_user: r.endUser,
    token_id: r.tokenId,
  };
}

export type RequestView = ReturnType<typeof rowView>;

export interface RequestPage {
  requests: RequestView[];
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
}

/** One page; one row more than asked is read to know whether another page follows. */
export async function requestPage(ledger: LedgerStore, q: LedgerPageQuery, names: KeyNames): Promise<RequestPage> {
  const limit = Math.max(1, Math.min(q.limit, MAX_PAGE));
  const rows = await ledger.page({ ...q, limit: limit + 1 });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { requests: page.map((r) => rowView(r, names)), next_cursor: rows.length > limit && last !== undefined ? encodeCursor(last) : null };
}

const CSV_COLUMNS = [
  'id', 'created_at', 'settled_at', 'key_id', 'key_name', 'team', 'operation', 'state', 'outcome', 'http_status', 'megapixels', 'images',
  'quoted_usd', 'cost_usd', 'billed_units', 'settle_source', 'unverified', 'recovered', 'overrun', 'open', 'fal_request_id', 'end_user', 'token_id',
] as const;

export function requestsCsv(page: RequestPage): string {
  return csvDocument(
    CSV_COLUMNS,
    page.requests.map((r) => {
      const flat = { ...r, ...r.flags };
      return CSV_COLUMNS.map((c) => flat[c]);
    }),
  );
}
