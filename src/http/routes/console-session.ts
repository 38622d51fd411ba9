/**
 * The console's session API (README, Console sign-in): POST signs in with an admin credential or a
 * one-time sign-in code and sets the session cookie; GET answers the session (and its CSRF token)
 * for a reloaded page; DELETE signs out. The credential is used once here and never stored or
 * echoed; the session id travels only in the cookie.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { MAX_CREDENTIAL_LENGTH } from '../../domain/keys.js';
import { GatewayError } from '../../errors.js';
import type { PipelineContext } from '../../pipeline/context.js';
import { recordAdminAction, type AuditContext } from '../../services/audit.js';
import { bootstrapCredentialId, resumeSession, sessionView, signIn, signOut } from '../../services/console-sessions.js';
import type { SessionRecord } from '../../store/session-store.js';
import { jsonBody } from '../json-body.js';
import { clearSessionCookie, isSameOrigin, sessionCookie, sessionEnded, setSessionCookie } from '../session-cookie.js';
import { checkCsrf, resolveSignIn } from './admin-auth.js';

export const SESSION_PATH = '/console/api/session';

export const SignInBody = Type.Object(
  { credential: Type.String({ minLength: 1, maxLength: MAX_CREDENTIAL_LENGTH, description: 'ADMIN_TOKEN, a named admin credential (fgw_ad_…) or a one-time sign-in code (fgw_os_…)' }) },
  { additionalProperties: false },
);

export function consoleSessionRoutes(app: FastifyInstance, ctx: PipelineContext): void {
  const limits = ctx.config.consoleSession;
  const adminToken = (request: FastifyRequest): string => {
    request.facts.op = 'admin';
    const token = ctx.config.adminToken;
    if (token === undefined) throw new GatewayError('forbidden', 'The console is disabled: set ADMIN_TOKEN to enable it');
    return token;
  };
  const audit = (request: FastifyRequest, actor: string): AuditContext => ({ actor, clientIp: request.ip, admins: ctx.stores.admins, log: request.log });
  const current = async (request: FastifyRequest, token: string): Promise<{ id: string; session: SessionRecord }> => {
    const id = sessionCookie(request);
    const session = id === undefined ? null : await resumeSession(ctx.stores.sessions, id, limits, ctx.now(), bootstrapCredentialId(ctx.tokenMacKey, token));
    if (id === undefined) throw new GatewayError('unauthorized', 'Not signed in: sign in with an admin credential');
    if (session === null) throw sessionEnded(request, ctx.config.publicUrl);
    return { id, session };
  };
  const answer = (reply: FastifyReply, session: SessionRecord) => reply.header('cache-control', 'no-store').send(sessionView(session, limits));

  void app.register((scope, _opts, done) => {
    scope.addHook('preValidation', (request, _reply, next) => {
      request.body = jsonBody(request)?.value;
      next();
    });

    scope.post(SESSION_PATH, { schema: { body: SignInBody, hide: true } }, async (request, reply) => {
      const token = adminToken(request);
      // A page on another site must not sign this browser in (as someone else) either.
      if (!isSameOrigin(request, ctx.config.publicUrl)) throw new GatewayError('csrf_token_invalid', 'Cross-origin sign-in refused');
      await ctx.limits.checkAuthFailures(request);
      const principal = await resolveSignIn(ctx, (request.body as Static<typeof SignInBody>).credential, token);
      if (principal === null) {
        await ctx.limits.countAuthFailure(request);
        throw new GatewayError('unauthorized', 'Wrong, revoked or used-up credential');
      }
      // Signing in again replaces this browser's earlier session instead of leaving it live.
      const earlier = sessionCookie(request);
      if (earlier !== undefined) await signOut(ctx.stores.sessions, earlier);
      const now = ctx.now();
      const { sessionId, session } = await signIn(ctx.stores.sessions, principal, limits, now);
      await recordAdminAction(audit(request, principal.actor), { action: 'console.sign_in', target: null, before: null, after: { role: principal.role } }, now);
      setSessionCookie(request, reply, sessionId, ctx.config.publicUrl);
      return answer(reply, session);
    });

    scope.get(SESSION_PATH, { schema: { hide: true } }, async (request, reply) => answer(reply, (await current(request, adminToken(request))).session));

    scope.delete(SESSION_PATH, { schema: { hide: true } }, async (request, reply) => {
      const { id, session } = await current(request, adminToken(request));
      checkCsrf(ctx, request, session);
      await signOut(ctx.stores.sessions, id);
      await recordAdminAction(audit(request, session.actor), { action: 'console.sign_out', target: null, before: null, after: null }, ctx.now());
      clearSessionCookie(request, reply, ctx.config.publicUrl);
      return reply.code(204).send();
    });
    done();
  });
}
