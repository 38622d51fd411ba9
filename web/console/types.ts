/**
 * The shapes the console reads and sends: the server's own types (the views the admin routes
 * answer with and the TypeBox schemas they validate bodies with), imported as types only, so a
 * renamed field fails `npm run typecheck` instead of showing a blank on screen.
 */
import type { auditView } from '../../src/services/audit.js';
import type { CreateKeyInput, KeyView, UpdateKeyInput } from '../../src/services/key-admin.js';
import type { KeyReport, KeyStatus } from '../../src/services/key-report.js';
import type { PeriodView } from '../../src/services/report-format.js';
import type { RequestPage, RequestView } from '../../src/services/request-report.js';
import type { TeamInput } from '../../src/services/team-admin.js';
import type { TeamReport } from '../../src/services/team-report.js';
import type { UsageReport, UsageReportRow } from '../../src/services/usage-report.js';

export type { CreateKeyInput, KeyReport, KeyStatus, KeyView, PeriodView, RequestPage, RequestView, TeamInput, TeamReport, UpdateKeyInput, UsageReport, UsageReportRow };
export type AuditEntry = ReturnType<typeof auditView>;

export type Period = 'lifetime' | 'day' | 'month';
export const PERIODS: readonly Period[] = ['lifetime', 'day', 'month'];
export type Usage = Record<Period, PeriodView>;

/** Rows by the status the client got (UsageReport's status classes). */
export type StatusCounts = Pick<UsageReport, 'http_2xx' | 'http_402' | 'http_429' | 'http_4xx' | 'http_5xx'>;

/**
 * One UTC day of GET /admin/reconciliation (a separate feature that may be absent: the page shows
 * "not configured" on 404). Its amounts are 6-decimal USD strings.
 */
export interface ReconciliationDay {
  day: string;
  status: 'matched' | 'pending' | 'difference';
  buckets: number;
  differences: number;
  pending: number;
  difference_units: number;
  difference_usd: string;
}
