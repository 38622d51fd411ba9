/**
 * The shapes the console reads. Request bodies and the key view are the server's own types (the
 * TypeBox schemas the routes validate with), so a renamed field fails `npm run typecheck`.
 */
import type { CreateKeyInput, KeyView, UpdateKeyInput } from '../../src/services/key-admin.js';
import type { TeamInput } from '../../src/services/team-admin.js';

export type { CreateKeyInput, KeyView, TeamInput, UpdateKeyInput };

/** One budget period of a key or team (report-format.ts PeriodView). */
export interface PeriodView {
  spent_usd: number;
  reserved_usd: number;
  budget_usd: number | null;
  remaining_usd: number | null;
}
export type Period = 'lifetime' | 'day' | 'month';
export const PERIODS: readonly Period[] = ['lifetime', 'day', 'month'];
export type Usage = Record<Period, PeriodView>;

export type KeyStatus = 'active' | 'revoked' | 'expired';

export interface KeyReport extends KeyView {
  /** Absent on a gateway without key reports: keyStatus() derives it. */
  status?: KeyStatus;
  last_used_at: string | null;
  usage?: Usage;
}

export interface TeamReport {
  name: string;
  budget_usd: number | null;
  budget_daily_usd: number | null;
  budget_monthly_usd: number | null;
  updated_at: string | null;
  keys?: number;
  active_keys?: number;
  usage?: Usage;
}

/** Rows by the status the client got; absent on a gateway without the status report. */
export interface StatusCounts {
  released?: number;
  http_2xx?: number;
  http_402?: number;
  http_429?: number;
  http_4xx?: number;
  http_5xx?: number;
}

export interface UsageRow extends StatusCounts {
  group: string;
  requests: number;
  spent_usd: number;
  reserved_usd: number;
  megapixels: number;
  images?: number;
  day?: string;
  hour?: string;
  key_id?: string;
  key_name?: string | null;
  team?: string | null;
}

export interface UsageReport extends StatusCounts {
  from: string | null;
  to: string | null;
  group_by: string | null;
  total_usd: number;
  reserved_usd: number;
  megapixels: number;
  billed_units: number;
  requests: number;
  overruns: number;
  images?: number;
  rows: UsageRow[];
}

/** A ledger row as GET /admin/requests shows it; fields the gateway does not send stay blank. */
export interface RequestRow {
  id: string;
  created_at: string;
  key_id: string;
  key_name?: string | null;
  team?: string | null;
  operation: string;
  state: string;
  outcome?: string | null;
  http_status?: number | null;
  requested_megapixels?: number;
  billed_units?: number | null;
  quoted_usd?: number;
  settled_usd?: number | null;
  verified?: boolean | null;
  overrun?: boolean;
  flags?: string[];
  fal_request_id?: string | null;
  end_user?: string | null;
  image_urls?: string[];
}

export interface RequestsPage {
  requests: RequestRow[];
  next_cursor: string | null;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  before: unknown;
  after: unknown;
  client_ip: string | null;
}

export interface ReconciliationDay {
  day: string;
  status: 'matched' | 'pending' | 'difference';
  buckets: number;
  differences: number;
  pending: number;
  difference_units: number;
  difference_usd: string;
}

/** The key's status as the API gives it, or as its revoked_at and expires_at say. */
export function keyStatus(k: KeyReport, now = Date.now()): KeyStatus {
  if (k.status !== undefined) return k.status;
  if (k.revoked_at !== null) return 'revoked';
  return k.expires_at !== null && Date.parse(k.expires_at) <= now ? 'expired' : 'active';
}
