/**
 * `POST /admin/reconciliation/run {from, to, bucket}` (admin: fetches fal's usage and records the
 * result per bucket; one run at a time, audited as `reconciliation.run`) and `GET /admin/reconciliation?from&to[&bucket]` (admin and viewer: what the
 * runs recorded, per bucket and per UTC day). docs/reconciliation.md says how buckets are decided.
 */
import type { FastifyInstance } from 'fastify';
import { ListQuery, RunBody } from '../../domain/openapi-reconciliation.js';
import { GatewayError } from '../../errors.js';
import type { PipelineContext } from '../../pipeline/context.js';
import { recordAdminAction } from '../../services/audit.js';
import { runAuditAction, type ReconciliationService } from '../../services/reconciliation.js';
import { bucketView, dayViews, resultView } from '../../services/reconciliation-view.js';
import type { BucketSize } from '../../store/reconciliation-store.js';
import { auditContext } from './admin-auth.js';

/** A UTC date (`2026-12-01`) or an ISO-8601 instant. */
export function parseInstant(v: string): Date | null {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00.000Z` : v);
  return Number.isNaN(ms) ? null : new Date(ms);
}

function window(q: { from: string; to: string }): { from: Date; to: Date } {
  const from = parseInstant(q.from);
  const to = parseInstant(q.to);
  if (from === null || to === null) throw new GatewayError('bad_request', 'from and to must be YYYY-MM-DD or ISO-8601 timestamps');
  if (from.getTime() >= to.getTime()) throw new GatewayError('bad_request', '`from` must be before `to`');
  return { from, to };
}

export function adminReconciliationRoutes(app: FastifyInstance, ctx: PipelineContext, service: ReconciliationService): void {
  app.post('/admin/reconciliation/run', { schema: { body: RunBody } }, async (request) => {
    const body = request.body as { from: string; to: string; bucket?: BucketSize };
    const w = window(body);
    // 409 `conflict` while another run (the scheduled job, the CLI, another admin) holds the run lease.
    const result = await service.run(w.from, w.to, body.bucket ?? 'hour');
    await recordAdminAction(auditContext(ctx, request), runAuditAction(result), ctx.now());
    return resultView(result);
  });

  app.get('/admin/reconciliation', { schema: { querystring: ListQuery } }, async (request) => {
    const q = request.query as { from: string; to: string; bucket?: BucketSize };
    const w = window(q);
    const buckets = await ctx.stores.reconciliation.list(w.from.toISOString(), w.to.toISOString(), q.bucket);
    // `configured`: whether this gateway reconciles at all (FAL_ADMIN_KEY set); stored results are shown either way.
    return { configured: ctx.config.platform.adminKey !== undefined, from: w.from.toISOString(), to: w.to.toISOString(), buckets: buckets.map(bucketView), days: dayViews(buckets) };
  });
}
