/**
 * The report reads of the SQL ledger (sql-ledger-store.ts): usage grids by up to two dimensions,
 * each key's last use, and pages of rows newest first. Only fixed clause text written here is
 * concatenated; every value is a bound parameter. Texts vary with the filters given, so they run
 * unprepared (reports are not on the request path).
 */
import type { LedgerFlag, LedgerPageQuery, UsageDimension, UsageGridQuery, UsageGridRow, UsageQuery } from '../ledger-store.js';
import { instant } from '../ledger-rules.js';
import { dynamicSql, sql, type Statement } from './sql-plan.js';
import { COLUMNS } from './sql-ledger-rows.js';

/** The expression of each dimension: fixed text, never input. Teams and end users that are null group under `''`. */
const DIMENSIONS: Record<UsageDimension, string> = {
  day: 'utc_day(created_at)',
  hour: 'utc_hour(created_at)',
  key: 'key_id',
  team: "COALESCE(team, '')",
  end_user: "COALESCE(end_user, '')",
};

const FLAGS: Record<LedgerFlag, string> = {
  unverified: 'verified = FALSE',
  recovered: "outcome = 'recovered'",
  overrun: "state = 'settled' AND settled_micro > quoted_micro",
  open: "state = 'reserved'",
};

type Filter = [name: string, clause: string, value: string | undefined];

function where(filters: Filter[], fixed: string[] = []): { clause: string; params: Record<string, string> } {
  const parts = [...fixed];
  const params: Record<string, string> = {};
  for (const [name, clause, value] of filters) {
    if (value === undefined) continue;
    parts.push(clause);
    params[name] = value;
  }
  return { clause: parts.length === 0 ? '' : `WHERE ${parts.join(' AND ')}`, params };
}

function usageFilters(q: UsageQuery): Filter[] {
  return [
    ['keyId', 'key_id = @keyId', q.keyId],
    ['team', 'team = @team', q.team],
    ['from', 'created_at >= @from', q.from === undefined ? undefined : instant(q.from)],
    ['to', 'created_at < @to', q.to === undefined ? undefined : instant(q.to)],
    ['endUser', 'end_user = @endUser', q.endUser],
  ];
}

/**
 * The usage grid (ledger-store.ts UsageGridRow): the usage totals leave released rows out, the
 * `released` count and the HTTP classes count every row. Groups sort in byte order.
 */
export function gridSql(q: UsageGridQuery): { stmt: Statement; params: Record<string, string> } {
  const { clause, params } = where(usageFilters(q));
  const dims = q.dimensions.map((d, i) => `(${DIMENSIONS[d]}) COLLATE "C" AS g${i}`);
  const names = q.dimensions.map((_, i) => `g${i}`).join(', ');
  const grouping = q.dimensions.length === 0 ? '' : `GROUP BY ${names} ORDER BY ${names}`;
  const text = `SELECT ${[...dims, ''].join(', ')}
      COUNT(CASE WHEN state <> 'released' THEN 1 END) AS requests,
      COUNT(CASE WHEN state = 'released' THEN 1 END) AS released,
      COALESCE(SUM(CASE WHEN state = 'settled' THEN settled_micro END), 0)::bigint AS spent,
      COALESCE(SUM(CASE WHEN state = 'reserved' THEN quoted_micro END), 0)::bigint AS reserved,
      COALESCE(SUM(CASE WHEN state = 'settled' THEN requested_megapixels END), 0)::float8 AS megapixels,
      COALESCE(SUM(CASE WHEN state = 'settled' THEN billed_units END), 0)::float8 AS units,
      COALESCE(SUM(CASE WHEN state = 'settled' THEN images END), 0)::bigint AS images,
      COUNT(CASE WHEN state = 'settled' AND settled_micro > quoted_micro THEN 1 END) AS overruns,
      COUNT(CASE WHEN http_status >= 200 AND http_status < 300 THEN 1 END) AS s2xx,
      COUNT(CASE WHEN http_status = 402 THEN 1 END) AS s402,
      COUNT(CASE WHEN http_status = 429 THEN 1 END) AS s429,
      COUNT(CASE WHEN http_status >= 400 AND http_status < 500 AND http_status NOT IN (402, 429) THEN 1 END) AS s4xx,
      COUNT(CASE WHEN http_status >= 500 AND http_status < 600 THEN 1 END) AS s5xx
    FROM ledger_entries ${clause} ${grouping}`;
  return { stmt: dynamicSql(text), params };
}

export interface GridSqlRow {
  g0?: string;
  g1?: string;
  requests: number;
  released: number;
  spent: number;
  reserved: number;
  megapixels: number;
  units: number;
  images: number;
  overruns: number;
  s2xx: number;
  s402: number;
  s429: number;
  s4xx: number;
  s5xx: number;
}

export function toGridRow(r: GridSqlRow, dimensions: number): UsageGridRow {
  const groups = [r.g0, r.g1].slice(0, dimensions).map((g) => g ?? '');
  return {
    groups,
    requests: r.requests,
    released: r.released,
    spentMicro: r.spent,
    reservedMicro: r.reserved,
    megapixels: r.megapixels,
    billedUnits: r.units,
    images: r.images,
    overruns: r.overruns,
    http: { s2xx: r.s2xx, s402: r.s402, s429: r.s429, s4xx: r.s4xx, s5xx: r.s5xx },
  };
}

/**
 * Each key's newest row. For every key: one top-1 lookup per key row on ledger_key_created
 * (key_id, created_at), not a pass over the whole ledger (a key id in the ledger always has its
 * key row: a hard delete is refused while rows exist). Keys without rows read NULL, dropped.
 */
export const LAST_USED = {
  all: sql('SELECT id AS key_id, (SELECT MAX(created_at) FROM ledger_entries WHERE key_id = keys.id) AS last FROM keys'),
  one: sql('SELECT key_id, MAX(created_at) AS last FROM ledger_entries WHERE key_id = @keyId GROUP BY key_id'),
};

/**
 * A page newest first by (created_at, id), ids in byte order, strictly after the previous page's
 * last row. `created_at <= @ac` first lets both databases start the index range at the cursor.
 */
export function pageSql(q: LedgerPageQuery): { stmt: Statement; params: Record<string, string | number> } {
  const filters: Filter[] = [
    ...usageFilters(q),
    ['state', 'state = @state', q.state],
    ['outcome', 'outcome = @outcome', q.outcome],
    ['fal', 'fal_request_id = @fal', q.falRequestId],
    ['ac', `created_at <= @ac AND (created_at < @ac OR id COLLATE "C" < @ai)`, q.after === undefined ? undefined : instant(q.after.createdAt)],
  ];
  const { clause, params } = where(filters, q.flag === undefined ? [] : [FLAGS[q.flag]]);
  const all: Record<string, string | number> = { ...params, limit: Math.max(0, Math.min(q.limit, 1000)) };
  if (q.after !== undefined) all.ai = q.after.id;
  const text = `SELECT ${COLUMNS} FROM ledger_entries ${clause} ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT @limit`;
  return { stmt: dynamicSql(text), params: all };
}
