/**
 * Authentication for every admin route. `Authorization: Bearer <credential>` is either ADMIN_TOKEN
 * (the bootstrap credential, actor `bootstrap`, compared in constant time) or a named credential
 * (`fgw_ad_…`, looked up by its SHA-256, actor `admin:<id>`). Without an Authorization header, the
 * console session cookie (services/console-sessions.ts) stands in for it: then every call but
 * GET/HEAD must also carry the session's `x-csrf-token` and come from the gateway's own origin
 * (http/session-cookie.ts). A viewer may only read reports, whichever way it signed in.
 */
import type { FastifyRequest } from 'fastify';
import { hashKey, parseAuthorization, secretsEqual } from '../../domain/keys.js';
import { GatewayError } from '../../errors.js';
import type { PipelineContext } from '../../pipeline/context.js';
import { ADMIN_SECRET_PREFIX } from '../../services/admin-credentials.js';
import type { AuditContext } from '../../services/audit.js';
import { SESSION_ID, SIGN_IN_CODE_PREFIX, bootstrapCredentialId, redeemSignInCode, resumeSession, type SignInPrincipal } from '../../services/console-sessions.js';
import type { AdminRole } from '../../store/admin-store.js';
import type { SessionRecord } from '../../store/session-store.js';
import { isSafeMethod, isSameOrigin, sessionCookie, sessionEnded } from '../session-cookie.js';

/** What a viewer may call: reports and metrics, nothing that changes state. */
const VIEWER_ROUTES = new Set(['GET /admin/usage', 'GET /admin/keys', 'GET /admin/keys/:id', 'GET /admin/teams', 'GET /admin/teams/:name', 'GET /admin/requests', 'GET /admin/requests/:id/images', 'GET /admin/audit', 'GET /admin/reconciliation']);

interface Principal {
  actor: string;
  role: AdminRole;
}
const principals = new WeakMap<FastifyRequest, Principal>();

/**
 * Wrong, missing or revoked credentials (and malformed session cookies) count against the
 * client IP's failed-authentication limit shared with the client API (AUTH_FAILURES_PER_MINUTE),
 * so none can be guessed at line rate; an IP over the limit is refused before the comparison.
 */
export async function requireAdmin(ctx: PipelineContext, request: FastifyRequest): Promise<void> {
  request.facts.op = 'admin';
  const token = ctx.config.adminToken;
  if (token === undefined) throw new GatewayError('forbidden', 'The admin API is disabled: set ADMIN_TOKEN to enable it');
  await ctx.limits.checkAuthFailures(request);
  const header = request.headers.authorization;
  let principal: Principal | null = null;
  if (header !== undefined) {
    const presented = /^bearer[ \t]/i.test(header) ? parseAuthorization(header) : null;
    principal = presented === null ? null : await resolveCredential(ctx, presented, token);
  } else {
    const sessionId = sessionCookie(request);
    const session = sessionId === undefined ? null : await resumeSession(ctx.stores.sessions, sessionId, ctx.config.consoleSession, ctx.now(), bootstrapCredentialId(ctx.tokenMacKey, token));
    if (session) checkCsrf(ctx, request, session);
    principal = session;
    // A well-formed session id that expired or was signed out is a stale console tab, not a guess
    // (256 random bits): counting it would let one open tab lock its IP, and every client behind
    // the same NAT, out of the client API. Its cookie is cleared instead.
    if (session === null && sessionId !== undefined && SESSION_ID.test(sessionId)) {
      throw sessionEnded(request, ctx.config.publicUrl);
    }
  }
  if (principal === null) {
    await ctx.limits.countAuthFailure(request);
    throw new GatewayError('unauthorized', 'Admin endpoints need `Authorization: Bearer <ADMIN_TOKEN or admin credential>` or a console session');
  }
  if (principal.role === 'viewer' && !VIEWER_ROUTES.has(`${request.method} ${request.routeOptions.url ?? ''}`)) {
    throw new GatewayError('forbidden', 'A viewer credential may only read usage, keys, teams, requests, the audit log and reconciliation results');
  }
  principals.set(request, { actor: principal.actor, role: principal.role });
}

/** A state-changing call on a session must prove it comes from the console page itself. */
export function checkCsrf(ctx: PipelineContext, request: FastifyRequest, session: SessionRecord): void {
  if (isSafeMethod(request.method)) return;
  if (!isSameOrigin(request, ctx.config.publicUrl)) throw new GatewayError('csrf_token_invalid', 'Cross-origin call refused: console sessions only work from the gateway\'s own pages');
  const sent = request.headers['x-csrf-token'];
  if (typeof sent !== 'string' || !secretsEqual(sent, session.csrfToken)) {
    throw new GatewayError('csrf_token_invalid', 'A call with the console session cookie needs the x-csrf-token header from GET /console/api/session');
  }
}

/** A bearer credential: ADMIN_TOKEN or a named admin credential; null when neither. */
async function resolveCredential(ctx: PipelineContext, presented: string, token: string): Promise<SignInPrincipal | null> {
  if (presented.startsWith(ADMIN_SECRET_PREFIX)) {
    const found = await ctx.stores.admins.findActiveByHash(hashKey(presented));
    return found ? { actor: `admin:${found.id}`, role: found.role, credentialId: found.id } : null;
  }
  return secretsEqual(presented, token) ? { actor: 'bootstrap', role: 'admin', credentialId: bootstrapCredentialId(ctx.tokenMacKey, token) } : null;
}

/** What the console's sign-in form may present: a bearer credential or a one-time sign-in code (used up here). */
export async function resolveSignIn(ctx: PipelineContext, presented: string, token: string): Promise<SignInPrincipal | null> {
  if (presented.startsWith(SIGN_IN_CODE_PREFIX)) {
    const ok = await redeemSignInCode(ctx.stores.sessions, presented, ctx.now());
    return ok ? { actor: 'bootstrap', role: 'admin', credentialId: bootstrapCredentialId(ctx.tokenMacKey, token) } : null;
  }
  return resolveCredential(ctx, presented, token);
}

/** The audit context of an authenticated admin request. */
export function auditContext(ctx: PipelineContext, request: FastifyRequest): AuditContext {
  const p = principals.get(request);
  if (!p) throw new Error('admin route reached without authentication');
  return { actor: p.actor, clientIp: request.ip, admins: ctx.stores.admins, log: request.log };
}
