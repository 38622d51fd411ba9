/** The usage aggregation of the memory ledger (memory-ledger-store.ts), as the SQL adapters compute it. */
import { instant } from '../ledger-rules.js';
import type { LedgerRow, UsageQuery, UsageRow } from '../ledger-store.js';

export function aggregateUsage(rows: Iterable<LedgerRow>, query: UsageQuery): UsageRow[] {
  const from = query.from === undefined ? undefined : instant(query.from);
  const to = query.to === undefined ? undefined : instant(query.to);
  const groups = new Map<string, UsageRow>();
  for (const r of rows) {
    if (r.state === 'released') continue;
    if ((query.keyId !== undefined && r.keyId !== query.keyId) || (query.team !== undefined && r.team !== query.team)) continue;
    if (query.endUser !== undefined && r.endUser !== query.endUser) continue;
    if ((from !== undefined && r.createdAt < from) || (to !== undefined && r.createdAt >= to)) continue;
    const group = groupOf(r, query.groupBy);
    const u = groups.get(group) ?? { group, requests: 0, spentMicro: 0, reservedMicro: 0, megapixels: 0, billedUnits: 0, overruns: 0 };
    u.requests += 1;
    if (r.state === 'settled') {
      u.spentMicro += r.settledMicro ?? 0;
      u.megapixels += r.requestedMegapixels;
      u.billedUnits += r.billedUnits ?? 0;
      if (r.overrun) u.overruns += 1;
    } else {
      u.reservedMicro += r.quotedMicro;
    }
    groups.set(group, u);
  }
  if (query.groupBy === undefined && groups.size === 0) groups.set('all', { group: 'all', requests: 0, spentMicro: 0, reservedMicro: 0, megapixels: 0, billedUnits: 0, overruns: 0 });
  return [...groups.values()].sort((a, b) => byteOrder(a.group, b.group));
}

function groupOf(r: LedgerRow, groupBy: UsageQuery['groupBy']): string {
  switch (groupBy) {
    case 'day':
      return r.createdAt.slice(0, 10);
    case 'key':
      return r.keyId;
    case 'end_user':
      return r.endUser ?? '';
    case undefined:
      return 'all';
  }
}

/** Byte order of the UTF-8 text, as SQLite (BINARY) and Postgres (COLLATE "C") sort groups. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
