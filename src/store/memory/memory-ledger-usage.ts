/** The usage aggregations and row pages of the memory ledger (memory-ledger-store.ts), as the SQL adapters compute them. */
import { isOverrun } from '../ledger-fresh-limits.js';
import { instant } from '../ledger-rules.js';
import type { LedgerPageQuery, LedgerRow, UsageDimension, UsageGridQuery, UsageGridRow, UsageQuery, UsageRow } from '../ledger-store.js';

type Filters = Omit<UsageQuery, 'groupBy'>;

function matches(r: LedgerRow, q: Filters, from: string | undefined, to: string | undefined): boolean {
  if ((q.keyId !== undefined && r.keyId !== q.keyId) || (q.team !== undefined && r.team !== q.team)) return false;
  if (q.endUser !== undefined && r.endUser !== q.endUser) return false;
  return !((from !== undefined && r.createdAt < from) || (to !== undefined && r.createdAt >= to));
}

const bound = (v: string | undefined) => (v === undefined ? undefined : instant(v));

export function aggregateUsage(rows: Iterable<LedgerRow>, query: UsageQuery): UsageRow[] {
  const dims: UsageDimension[] = query.groupBy === undefined ? [] : [query.groupBy];
  // Usage leaves released rows out entirely, so a group holding only released rows is no group.
  const grid = aggregateGrid(rows, { ...query, dimensions: dims }).filter((g) => dims.length === 0 || g.requests > 0);
  return grid.map((g) => ({
    group: g.groups[0] ?? 'all',
    requests: g.requests,
    spentMicro: g.spentMicro,
    reservedMicro: g.reservedMicro,
    megapixels: g.megapixels,
    billedUnits: g.billedUnits,
    overruns: g.overruns,
  }));
}

const emptyGrid = (groups: string[]): UsageGridRow => ({
  groups,
  requests: 0,
  spentMicro: 0,
  reservedMicro: 0,
  megapixels: 0,
  billedUnits: 0,
  overruns: 0,
  images: 0,
  released: 0,
  http: { s2xx: 0, s402: 0, s429: 0, s4xx: 0, s5xx: 0 },
});

export function aggregateGrid(rows: Iterable<LedgerRow>, query: UsageGridQuery): UsageGridRow[] {
  const from = bound(query.from);
  const to = bound(query.to);
  const groups = new Map<string, UsageGridRow>();
  for (const r of rows) {
    if (!matches(r, query, from, to)) continue;
    const values = query.dimensions.map((d) => valueOf(r, d));
    const id = values.join('\u0000');
    const u = groups.get(id) ?? emptyGrid(values);
    countStatus(u, r.httpStatus);
    if (r.state === 'released') u.released += 1;
    else u.requests += 1;
    if (r.state === 'settled') {
      u.spentMicro += r.settledMicro ?? 0;
      u.megapixels += r.requestedMegapixels;
      u.billedUnits += r.billedUnits ?? 0;
      u.images += r.images;
      if (r.overrun) u.overruns += 1;
    } else if (r.state === 'reserved') {
      u.reservedMicro += r.quotedMicro;
    }
    groups.set(id, u);
  }
  if (query.dimensions.length === 0 && groups.size === 0) groups.set('', emptyGrid([]));
  return [...groups.values()].sort((a, b) => {
    for (let i = 0; i < a.groups.length; i++) {
      const c = byteOrder(a.groups[i] ?? '', b.groups[i] ?? '');
      if (c !== 0) return c;
    }
    return 0;
  });
}

function countStatus(u: UsageGridRow, status: number | null): void {
  if (status === null) return;
  if (status >= 200 && status < 300) u.http.s2xx += 1;
  else if (status === 402) u.http.s402 += 1;
  else if (status === 429) u.http.s429 += 1;
  else if (status >= 400 && status < 500) u.http.s4xx += 1;
  else if (status >= 500 && status < 600) u.http.s5xx += 1;
}

function valueOf(r: LedgerRow, d: UsageDimension): string {
  switch (d) {
    case 'day':
      return r.createdAt.slice(0, 10);
    case 'hour':
      return r.createdAt.slice(0, 13);
    case 'key':
      return r.keyId;
    case 'team':
      return r.team ?? '';
    case 'end_user':
      return r.endUser ?? '';
  }
}

/** Whether a row carries a flag (ledger-store.ts LedgerFlag). */
export function hasFlag(r: LedgerRow, flag: LedgerPageQuery['flag']): boolean {
  switch (flag) {
    case undefined:
      return true;
    case 'unverified':
      return r.verified === false;
    case 'recovered':
      return r.outcome === 'recovered';
    case 'overrun':
      return r.state === 'settled' && isOverrun(r.settledMicro, r.quotedMicro);
    case 'open':
      return r.state === 'reserved';
  }
}

/** LedgerStore.page over the memory rows: newest first by (created_at, id), ids in byte order. */
export function pageRows(rows: Iterable<LedgerRow>, q: LedgerPageQuery): LedgerRow[] {
  const from = bound(q.from);
  const to = bound(q.to);
  const after = q.after === undefined ? undefined : { createdAt: instant(q.after.createdAt), id: q.after.id };
  const picked = [...rows].filter(
    (r) =>
      matches(r, q, from, to) &&
      (q.state === undefined || r.state === q.state) &&
      (q.outcome === undefined || r.outcome === q.outcome) &&
      (q.falRequestId === undefined || r.falRequestId === q.falRequestId) &&
      hasFlag(r, q.flag) &&
      (after === undefined || newerFirst(r, after) > 0),
  );
  return picked.sort(newerFirst).slice(0, Math.max(0, Math.min(q.limit, 1000))).map((r) => ({ ...r }));
}

function newerFirst(a: Pick<LedgerRow, 'createdAt' | 'id'>, b: Pick<LedgerRow, 'createdAt' | 'id'>): number {
  if (a.createdAt !== b.createdAt) return a.createdAt > b.createdAt ? -1 : 1;
  return -byteOrder(a.id, b.id);
}

export function lastUsedOf(rows: Iterable<LedgerRow>, keyId: string | undefined): Map<string, string> {
  const last = new Map<string, string>();
  for (const r of rows) {
    if (keyId !== undefined && r.keyId !== keyId) continue;
    const seen = last.get(r.keyId);
    if (seen === undefined || r.createdAt > seen) last.set(r.keyId, r.createdAt);
  }
  return last;
}

/** Byte order of the UTF-8 text, as SQLite (BINARY) and Postgres (COLLATE "C") sort groups. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
