/**
 * Usage reports from the ledger, shared by `GET /admin/usage`, `GET /v1/usage` and `fal-gateway usage`.
 * Amounts leave as USD numbers (exact to the micro-dollar); the ledger keeps integers.
 */
import { countersFor, type BudgetLimits } from '../domain/budgets.js';
import { microToUsdNumber } from '../domain/pricing.js';
import { GatewayError } from '../errors.js';
import type { KeyRecord, KeyStore } from '../store/key-store.js';
import type { LedgerStore, UsageDimension, UsageGridRow, UsageQuery } from '../store/ledger-store.js';
import type { TeamStore } from '../store/team-store.js';
import { csvDocument, periodView } from './report-format.js';

export interface UsageReportQuery extends UsageQuery {
  /** One dimension, or two for a grid (a time dimension then a key or team: `day,key`). */
  groupBy?: UsageDimension | UsageDimension[];
}

/** Counts that include released rows (a failed request is released): rows by the status the client got. */
interface StatusCounts {
  released: number;
  http_2xx: number;
  http_402: number;
  http_429: number;
  /** 4xx other than 402 and 429. */
  http_4xx: number;
  http_5xx: number;
}

export interface UsageReportRow extends StatusCounts {
  /** The group's values joined by `/` (`2026-11-26/key_abc`); `all` without grouping. */
  group: string;
  requests: number;
  spent_usd: number;
  reserved_usd: number;
  megapixels: number;
  billed_units: number;
  overruns: number;
  images: number;
  /** Set per dimension grouped by: a UTC day, an hour (ISO, start of the hour), a key and its name and team, a team, an end user. */
  day?: string;
  hour?: string;
  key_id?: string;
  key_name?: string | null;
  team?: string | null;
  end_user?: string;
}

export interface UsageReport extends StatusCounts {
  from: string | null;
  to: string | null;
  /** The dimensions grouped by, comma-separated (`day,key`), or null. */
  group_by: string | null;
  total_usd: number;
  reserved_usd: number;
  megapixels: number;
  billed_units: number;
  requests: number;
  /** Settled rows fal billed above their reservation (ledger-overrun.ts): should stay 0. */
  overruns: number;
  images: number;
  rows: UsageReportRow[];
}

/** What a key dimension shows beside the id. */
export type KeyNames = Map<string, { name: string; team: string | null }>;

/** Key id → name and team, for reports that show names beside ids. */
export async function keyNamesOf(keys: KeyStore): Promise<KeyNames> {
  return new Map((await keys.list()).map((k) => [k.id, { name: k.name, team: k.team }]));
}

/** `group_by` values of GET /admin/usage and `fal-gateway usage`: one dimension, or a time dimension by key or team (the console's charts). */
export const USAGE_GROUPINGS: Record<string, UsageDimension[]> = {
  day: ['day'],
  hour: ['hour'],
  key: ['key'],
  team: ['team'],
  end_user: ['end_user'],
  'day,key': ['day', 'key'],
  'day,team': ['day', 'team'],
  'hour,key': ['hour', 'key'],
  'hour,team': ['hour', 'team'],
};

/**
 * The usage report as the API and the CLI give it: grouped by one of USAGE_GROUPINGS (refused with
 * bad_request otherwise), with key names when rows are per key.
 */
export async function groupedUsageReport(stores: { ledger: LedgerStore; keys: KeyStore }, q: Omit<UsageReportQuery, 'groupBy'>, groupBy: string | undefined): Promise<UsageReport> {
  const dims = groupBy === undefined ? undefined : USAGE_GROUPINGS[groupBy];
  if (groupBy !== undefined && (dims === undefined || !Object.hasOwn(USAGE_GROUPINGS, groupBy))) {
    throw new GatewayError('bad_request', `group_by must be one of ${Object.keys(USAGE_GROUPINGS).join(', ')}`);
  }
  const names: KeyNames = dims?.includes('key') === true ? await keyNamesOf(stores.keys) : new Map<string, { name: string; team: string | null }>();
  return usageReport(stores.ledger, { ...q, groupBy: dims }, names);
}

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

function statusCounts(r: UsageGridRow): StatusCounts {
  return { released: r.released, http_2xx: r.http.s2xx, http_402: r.http.s402, http_429: r.http.s429, http_4xx: r.http.s4xx, http_5xx: r.http.s5xx };
}

function rowView(r: UsageGridRow, dims: UsageDimension[], names: KeyNames): UsageReportRow {
  const row: UsageReportRow = {
    group: r.groups.join('/'),
    requests: r.requests,
    spent_usd: microToUsdNumber(r.spentMicro),
    reserved_usd: microToUsdNumber(r.reservedMicro),
    megapixels: round6(r.megapixels),
    billed_units: round6(r.billedUnits),
    overruns: r.overruns,
    images: r.images,
    ...statusCounts(r),
  };
  dims.forEach((d, i) => {
    const v = r.groups[i] ?? '';
    if (d === 'day') row.day = v;
    else if (d === 'hour') row.hour = `${v}:00:00.000Z`;
    else if (d === 'team') row.team = v === '' ? null : v;
    else if (d === 'end_user') row.end_user = v;
    else {
      row.key_id = v;
      row.key_name = names.get(v)?.name ?? null;
      row.team = names.get(v)?.team ?? null;
    }
  });
  return row;
}

/** Parses a report bound: `YYYY-MM-DD` (midnight UTC) or a full ISO timestamp. Null if invalid. */
export function parseBound(v: string | undefined): string | null | undefined {
  if (v === undefined || v === '') return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00.000Z` : v);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

export async function usageReport(ledger: LedgerStore, q: UsageReportQuery, names: KeyNames = new Map()): Promise<UsageReport> {
  const dims = q.groupBy === undefined ? [] : typeof q.groupBy === 'string' ? [q.groupBy] : q.groupBy;
  const filters = { keyId: q.keyId, team: q.team, endUser: q.endUser, from: q.from, to: q.to };
  const [[total], rows] = await Promise.all([ledger.usageGrid({ ...filters, dimensions: [] }), dims.length === 0 ? [] : ledger.usageGrid({ ...filters, dimensions: dims })]);
  const t = total ?? { groups: [], requests: 0, released: 0, spentMicro: 0, reservedMicro: 0, megapixels: 0, billedUnits: 0, images: 0, overruns: 0, http: { s2xx: 0, s402: 0, s429: 0, s4xx: 0, s5xx: 0 } };
  return {
    from: q.from ?? null,
    to: q.to ?? null,
    group_by: dims.length === 0 ? null : dims.join(','),
    total_usd: microToUsdNumber(t.spentMicro),
    reserved_usd: microToUsdNumber(t.reservedMicro),
    megapixels: round6(t.megapixels),
    billed_units: round6(t.billedUnits),
    requests: t.requests,
    overruns: t.overruns,
    images: t.images,
    ...statusCounts(t),
    rows: rows.map((r) => rowView(r, dims, names)),
  };
}

/** The first six columns are the CSV's original ones; every later column was added at the end. */
const CSV_COLUMNS = [
  'group', 'requests', 'spent_usd', 'reserved_usd', 'megapixels', 'billed_units',
  'overruns', 'images', 'released', 'http_2xx', 'http_402', 'http_429', 'http_4xx', 'http_5xx',
  'day', 'hour', 'key_id', 'key_name', 'team', 'end_user',
] as const;

export function usageCsv(report: UsageReport): string {
  const all: UsageReportRow = { ...report, group: 'all', spent_usd: report.total_usd };
  const rows = report.rows.length > 0 ? report.rows : [all];
  return csvDocument(CSV_COLUMNS, rows.map((r) => CSV_COLUMNS.map((c) => r[c] ?? null)));
}

/** A key holder's own view: spend, reservations and what is left of each budget (key and team). */
export async function selfUsage(ledger: LedgerStore, teams: TeamStore, key: KeyRecord, now: Date) {
  const keyLimits: BudgetLimits = { lifetime: key.budgetMicroUsd, day: key.budgetDailyMicroUsd, month: key.budgetMonthlyMicroUsd };
  const team = key.team === null ? null : await teams.get(key.team);
  const teamLimits: BudgetLimits = { lifetime: team?.budgetMicroUsd ?? null, day: team?.budgetDailyMicroUsd ?? null, month: team?.budgetMonthlyMicroUsd ?? null };
  const refs = countersFor(key.id, keyLimits, key.team, teamLimits, now);
  const totals = await ledger.counterTotals(refs);
  const view = (i: number) => periodView(refs[i], totals[i]);
  return {
    key_id: key.id,
    name: key.name,
    team: key.team,
    ...view(0),
    day: view(1),
    month: view(2),
    ...(key.team === null ? {} : { team_budgets: { lifetime: view(3), day: view(4), month: view(5) } }),
    limits: { rpm: key.rpm, max_concurrency: key.maxConcurrency },
  };
}
