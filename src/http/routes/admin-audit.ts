/** Named admin credentials (`/admin/admins`) and the audit log (`GET /admin/audit`). */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { GatewayError } from '../../errors.js';
import type { PipelineContext } from '../../pipeline/context.js';
import { CreateAdminBody, adminView, createAdmin, revokeAdmin, type CreateAdminInput } from '../../services/admin-credentials.js';
import { auditView, decodeCursor, encodeCursor } from '../../services/audit.js';
import { parseBound } from '../../services/usage-report.js';
import { auditContext } from './admin-auth.js';

const AuditQuery = Type.Object(
  {
    actor: Type.Optional(Type.String({ maxLength: 100 })),
    action: Type.Optional(Type.String({ maxLength: 50 })),
    target: Type.Optional(Type.String({ maxLength: 100 })),
    from: Type.Optional(Type.String({ maxLength: 40 })),
    to: Type.Optional(Type.String({ maxLength: 40 })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
type AuditQueryT = { actor?: string; action?: string; target?: string; from?: string; to?: string; limit?: string; cursor?: string };

export function adminAuditRoutes(app: FastifyInstance, ctx: PipelineContext): void {
  app.post('/admin/admins', { schema: { body: CreateAdminBody } }, async (request, reply) => {
    const { record, secret } = await createAdmin(auditContext(ctx, request), request.body as CreateAdminInput, ctx.now());
    return reply.code(201).send({ ...adminView(record), secret });
  });

  app.get('/admin/admins', async () => ({ admins: (await ctx.stores.admins.list()).map(adminView) }));

  app.delete('/admin/admins/:id', { schema: { params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }) } }, async (request) => {
    const a = await revokeAdmin(auditContext(ctx, request), (request.params as { id: string }).id, ctx.now());
    if (!a) throw new GatewayError('not_found', 'No such admin credential');
    return adminView(a);
  });

  app.get('/admin/audit', { schema: { querystring: AuditQuery } }, async (request) => {
    const q = request.query as AuditQueryT;
    const from = parseBound(q.from);
    const to = parseBound(q.to);
    if (from === null || to === null) throw new GatewayError('bad_request', 'from and to must be YYYY-MM-DD or ISO-8601 timestamps');
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (limit < 1 || limit > 1000) throw new GatewayError('bad_request', 'limit must be 1 to 1000');
    const before = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    if (before === null) throw new GatewayError('bad_request', 'cursor is not one this API returned');
    const entries = await ctx.stores.admins.listAudit({ actor: q.actor, action: q.action, target: q.target, from, to, limit: limit + 1, before });
    const page = entries.slice(0, limit);
    const last = page[page.length - 1];
    return { entries: page.map(auditView), next_cursor: entries.length > limit && last ? encodeCursor(last) : null };
  });
}
