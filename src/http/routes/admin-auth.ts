/**
 * Authentication for every admin route: `Authorization: Bearer <credential>` is either ADMIN_TOKEN
 * (the bootstrap credential, actor `bootstrap`, compared in constant time) or a named credential
 * (`fgw_ad_…`, looked up by its SHA-256, actor `admin:<id>`). A viewer may only read reports.
 */
import type { FastifyRequest } from 'fastify';
import { hashKey, parseAuthorization, secretsEqual } from '../../domain/keys.js';
import { GatewayError } from '../../errors.js';
import type { PipelineContext } from '../../pipeline/context.js';
import { ADMIN_SECRET_PREFIX } from '../../services/admin-credentials.js';
import type { AuditContext } from '../../services/audit.js';
import type { AdminRole } from '../../store/admin-store.js';

/** What a viewer may call: reports and metrics, nothing that changes state. */
const VIEWER_ROUTES = new Set(['GET /admin/usage', 'GET /admin/keys', 'GET /admin/teams', 'GET /admin/audit', 'GET /admin/reconciliation']);

interface Principal {
  actor: string;
  role: AdminRole;
}
const principals = new WeakMap<FastifyRequest, Principal>();

/**
 * Wrong, missing or revoked credentials count against the client IP's failed-authentication limit
 * shared with the client API (AUTH_FAILURES_PER_MINUTE), so none can be guessed at line rate; an
 * IP over the limit is refused before the comparison.
 */
export async function requireAdmin(ctx: PipelineContext, request: FastifyRequest): Promise<void> {
  request.facts.op = 'admin';
  const token = ctx.config.adminToken;
  if (token === undefined) throw new GatewayError('forbidden', 'The admin API is disabled: set ADMIN_TOKEN to enable it');
  await ctx.limits.checkAuthFailures(request);
  const header = request.headers.authorization;
  const presented = header !== undefined && /^bearer[ \t]/i.test(header) ? parseAuthorization(header) : null;
  const principal = presented === null ? null : await resolve(ctx, presented, token);
  if (principal === null) {
    await ctx.limits.countAuthFailure(request);
    throw new GatewayError('unauthorized', 'Admin endpoints need `Authorization: Bearer <ADMIN_TOKEN or admin credential>`');
  }
  if (principal.role === 'viewer' && !VIEWER_ROUTES.has(`${request.method} ${request.routeOptions.url ?? ''}`)) {
    throw new GatewayError('forbidden', 'A viewer credential may only read usage, keys, teams, the audit log and reconciliation results');
  }
  principals.set(request, principal);
}

async function resolve(ctx: PipelineContext, presented: string, token: string): Promise<Principal | null> {
  if (presented.startsWith(ADMIN_SECRET_PREFIX)) {
    const found = await ctx.stores.admins.findActiveByHash(hashKey(presented));
    return found ? { actor: `admin:${found.id}`, role: found.role } : null;
  }
  return secretsEqual(presented, token) ? { actor: 'bootstrap', role: 'admin' } : null;
}

/** The audit context of an authenticated admin request. */
export function auditContext(ctx: PipelineContext, request: FastifyRequest): AuditContext {
  const p = principals.get(request);
  if (!p) throw new Error('admin route reached without authentication');
  return { actor: p.actor, clientIp: request.ip, admins: ctx.stores.admins, log: request.log };
}
