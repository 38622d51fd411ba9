/**
 * `GET https://api.fal.ai/v1/models/usage` as the sim serves it from its own bill: the query
 * fal publishes (start, end, timeframe, bound_to_timeframe, timezone, endpoint_id, expand, limit,
 * cursor), answered `{time_series:[{bucket, results:[…]}], summary?, next_cursor, has_more}`.
 * Where fal's docs are silent the sim's choices are in docs/fal-protocol.md §4.1: UTC only,
 * hour and day buckets only, only buckets with usage are listed, `limit` counts buckets, and the
 * cursor is base64 of the 1-based page number ("Mg==" is page 2, as in fal's example).
 */
import type { BillEntry } from './account-bill.js';

export type Timeframe = 'hour' | 'day';

export interface UsageQuery {
  start: number;
  end: number;
  timeframe: Timeframe;
  endpointIds: string[];
  expand: Set<'time_series' | 'summary'>;
  limit: number;
  page: number;
}

export interface UsageLine {
  endpoint_id: string;
  unit: string;
  quantity: number;
  unit_price: number;
  cost: number;
  currency: 'USD';
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

/** Reads the query; a string is a 400 message (fal's validation_error). */
export function parseUsageQuery(params: URLSearchParams, now: number): UsageQuery | string {
  const endpointIds = listParam(params, 'endpoint_id');
  if (endpointIds.length < 1 || endpointIds.length > 50) return 'endpoint_id: provide 1-50 endpoint IDs';
  const start = dateParam(params.get('start'), now - DAY_MS);
  const end = dateParam(params.get('end'), now);
  if (start === undefined || end === undefined) return 'start/end: ISO8601 dates expected';
  if (end <= start) return 'end must be after start';
  const tz = params.get('timezone');
  if (tz !== null && tz !== 'UTC') return 'timezone: the simulated fal buckets in UTC only';
  const tf = params.get('timeframe') ?? (end - start < 2 * DAY_MS ? 'hour' : 'day');
  if (tf !== 'hour' && tf !== 'day') return 'timeframe: the simulated fal serves hour and day only';
  const expandRaw = listParam(params, 'expand');
  const expand = new Set<'time_series' | 'summary'>();
  for (const e of expandRaw.length === 0 ? ['time_series'] : expandRaw) {
    if (e !== 'time_series' && e !== 'summary') return `expand: unsupported value "${e}"`;
    expand.add(e);
  }
  const limit = params.has('limit') ? Number(params.get('limit')) : DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return `limit: an integer in 1..${MAX_LIMIT}`;
  const page = pageOf(params.get('cursor'));
  if (page === undefined) return 'cursor: not a cursor this API issued';
  const bound = params.get('bound_to_timeframe') !== 'false';
  const size = tf === 'hour' ? HOUR_MS : DAY_MS;
  return {
    start: bound ? floorTo(start, size) : start,
    // Aligned: the end becomes exclusive at the start of the next bucket (fal's docs).
    end: bound ? floorTo(end - 1, size) + size : end,
    timeframe: tf,
    endpointIds,
    expand,
    limit,
    page,
  };
}

export interface UsagePage {
  time_series?: { bucket: string; results: UsageLine[] }[];
  summary?: UsageLine[];
  next_cursor: string | null;
  has_more: boolean;
}

/**
 * One page. `visible` are the entries fal has totalled by `now` (late buckets); `pageSize` is what
 * this page holds (smaller than `limit` under the partial-pages fault; has_more still tells).
 */
export function usagePage(q: UsageQuery, visible: BillEntry[], pageSize: number): UsagePage {
  const inWindow = visible.filter((e) => e.at >= q.start && e.at < q.end && q.endpointIds.includes(e.endpointId));
  const size = q.timeframe === 'hour' ? HOUR_MS : DAY_MS;
  const buckets = new Map<number, BillEntry[]>();
  for (const e of inWindow) {
    const b = floorTo(e.at, size);
    buckets.set(b, [...(buckets.get(b) ?? []), e]);
  }
  const ordered = [...buckets.keys()].sort((a, b) => a - b);
  const from = (q.page - 1) * pageSize;
  const slice = ordered.slice(from, from + pageSize);
  const hasMore = from + pageSize < ordered.length;
  const out: UsagePage = { next_cursor: hasMore ? cursorFor(q.page + 1) : null, has_more: hasMore };
  if (q.expand.has('time_series')) {
    out.time_series = slice.map((b) => ({ bucket: isoUtc(b), results: lines(buckets.get(b) ?? []) }));
  }
  if (q.expand.has('summary')) out.summary = lines(inWindow);
  return out;
}

/** One line per endpoint and unit price: a price change inside a window gives two lines. */
function lines(entries: BillEntry[]): UsageLine[] {
  const byKey = new Map<string, { e: BillEntry; quantity: number }>();
  for (const e of entries) {
    const key = `${e.endpointId}\n${e.unit}\n${e.unitPrice}`;
    const line = byKey.get(key) ?? { e, quantity: 0 };
    line.quantity += e.units;
    byKey.set(key, line);
  }
  return [...byKey.values()].map(({ e, quantity }) => ({
    endpoint_id: e.endpointId,
    unit: e.unit,
    quantity,
    unit_price: e.unitPrice,
    // Rounded to nano-USD, the resolution of fal's billing-events `cost_estimate_nano_usd`.
    cost: Math.round(quantity * e.unitPrice * 1e9) / 1e9,
    currency: 'USD',
  }));
}

export function cursorFor(page: number): string {
  return Buffer.from(String(page), 'utf8').toString('base64');
}

function pageOf(cursor: string | null): number | undefined {
  if (cursor === null || cursor === '') return 1;
  const n = Number(Buffer.from(cursor, 'base64').toString('utf8'));
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/** Comma-separated or repeated, as fal accepts both. */
function listParam(params: URLSearchParams, name: string): string[] {
  return params.getAll(name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

function dateParam(raw: string | null, fallback: number): number | undefined {
  if (raw === null || raw === '') return fallback;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00Z` : raw);
  return Number.isFinite(ms) ? ms : undefined;
}

function floorTo(ms: number, size: number): number {
  return Math.floor(ms / size) * size;
}

/** ISO 8601 with an explicit offset, the form fal gives bucket timestamps in (`…-05:00`). */
function isoUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}
