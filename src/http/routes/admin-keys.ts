/**
 * Admin API for keys (authentication and roles: admin-auth.ts). The secret is returned once, by
 * POST; every other view omits it. Every change is recorded in the audit log (services/audit.ts).
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { GatewayError } from '../../errors.js';
import { jsonBody } from '../json-body.js';
import type { PipelineContext } from '../../pipeline/context.js';
import {
  CreateKeyBody,
  MAX_GRACE_SECONDS,
  RotateKeyBody,
  UpdateKeyBody,
  createKey,
  hardDeleteKey,
  invalidWebhookPrefixes,
  keyView,
  originProblems,
  revokeKey,
  rotateKey,
  toPatch,
  updateKey,
  type CreateKeyInput,
  type UpdateKeyInput,
} from '../../services/key-admin.js';
import { keyReport, keyReports, keysCsv, type KeyStatus } from '../../services/key-report.js';
import { auditContext, requireAdmin } from './admin-auth.js';
import { csvReply } from './admin-usage.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const KeysQuery = Type.Object(
  {
    team: Type.Optional(Type.String({ maxLength: 100 })),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('revoked'), Type.Literal('expired')])),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
  },
  { additionalProperties: false },
);
const DeleteQuery = Type.Object({
  hard: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'true: delete the key row (refused with 409 while ledger rows exist); default: revoke' })),
});

export function adminKeyRoutes(app: FastifyInstance, ctx: PipelineContext): void {
  const keys = ctx.stores.keys;
  const notFound = () => new GatewayError('not_found', 'No such key');
  const checkWebhooks = (urls: string[] | undefined) => {
    const bad = invalidWebhookPrefixes(urls ?? []);
    if (bad.length > 0) throw new GatewayError('bad_request', 'allowed_webhook_urls must be https URLs without credentials');
  };

  app.addHook('onRequest', async (request) => requireAdmin(ctx, request));
  // After a change is stored and before the answer leaves: revocations, limits and allowed_origins
  // (CORS) take effect at once on this instance.
  app.addHook('onSend', (request, _reply, payload, done) => {
    if (request.method !== 'GET') {
      ctx.corsOrigins.invalidate();
      ctx.keys.clear();
    }
    done(null, payload);
  });
  // The shared body parser keeps raw bytes for forwarding; admin routes validate the parsed value.
  app.addHook('preValidation', (request, _reply, done) => {
    request.body = jsonBody(request)?.value;
    done();
  });

  app.post('/admin/keys', { schema: { body: CreateKeyBody } }, async (request, reply) => {
    const input = request.body as CreateKeyInput;
    checkWebhooks(input.allowed_webhook_urls);
    const originProblem = originProblems(input.kind ?? 'secret', input.allowed_origins);
    if (originProblem) throw new GatewayError('bad_request', originProblem);
    const { record, secret } = await createKey(keys, input, ctx.now(), auditContext(ctx, request));
    request.log.info({ keyId: record.id }, 'key created');
    return reply.code(201).send({ ...keyView(record), key: secret });
  });

  app.get('/admin/keys', { schema: { querystring: KeysQuery } }, async (request, reply) => {
    const q = request.query as { team?: string; status?: KeyStatus; format?: 'json' | 'csv' };
    const reports = await keyReports(ctx.stores.ledger, await keys.list(), ctx.now(), { team: q.team, status: q.status });
    return q.format === 'csv' ? csvReply(reply, 'keys', keysCsv(reports)) : { keys: reports };
  });

  app.get('/admin/keys/:id', { schema: { params: IdParams } }, async (request) => {
    const k = await keys.get((request.params as { id: string }).id);
    if (!k) throw notFound();
    return keyReport(ctx.stores.ledger, k, ctx.now());
  });

  app.patch('/admin/keys/:id', { schema: { params: IdParams, body: UpdateKeyBody } }, async (request) => {
    const input = request.body as UpdateKeyInput;
    checkWebhooks(input.allowed_webhook_urls);
    const current = await keys.get((request.params as { id: string }).id);
    if (!current) throw notFound();
    const originProblem = originProblems(current.kind, input.allowed_origins ?? current.allowedOrigins);
    if (originProblem) throw new GatewayError('bad_request', originProblem);
    const k = await updateKey(keys, (request.params as { id: string }).id, toPatch(input), ctx.now(), auditContext(ctx, request));
    if (!k) throw notFound();
    return keyView(k);
  });

  // No body is a rotation with the default grace, so the body is checked here, not by Fastify's schema.
  app.post('/admin/keys/:id/rotate', { schema: { params: IdParams } }, async (request) => {
    const body: unknown = request.body ?? {};
    if (!Value.Check(RotateKeyBody, body)) throw new GatewayError('bad_request', `The body may hold only grace_seconds, a whole number from 0 to ${MAX_GRACE_SECONDS}`);
    const { record, secret } = await rotateKey(keys, (request.params as { id: string }).id, body.grace_seconds, ctx.now(), auditContext(ctx, request));
    request.log.info({ keyId: record.id, graceUntil: record.previousSecretUntil }, 'key rotated');
    return { ...keyView(record), key: secret };
  });

  app.delete('/admin/keys/:id', { schema: { params: IdParams, querystring: DeleteQuery } }, async (request) => {
    const id = (request.params as { id: string }).id;
    if ((request.query as { hard?: string }).hard === 'true') {
      await hardDeleteKey(keys, id, ctx.now(), auditContext(ctx, request));
      request.log.info({ keyId: id }, 'key deleted');
      return { id, deleted: true };
    }
    const k = await revokeKey(keys, id, ctx.now(), auditContext(ctx, request));
    if (!k) throw notFound();
    request.log.info({ keyId: k.id }, 'key revoked');
    return keyView(k);
  });
}
