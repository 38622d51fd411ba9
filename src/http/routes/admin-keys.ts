/**
 * Admin API for keys (authentication and roles: admin-auth.ts). The secret is returned once, by
 * POST; every other view omits it. Every change is recorded in the audit log (services/audit.ts).
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { GatewayError } from '../../errors.js';
import { jsonBody } from '../json-body.js';
import type { PipelineContext } from '../../pipeline/context.js';
import { CreateKeyBody, UpdateKeyBody, createKey, invalidWebhookPrefixes, keyView, originProblems, revokeKey, toPatch, updateKey, type CreateKeyInput, type UpdateKeyInput } from '../../services/key-admin.js';
import { auditContext, requireAdmin } from './admin-auth.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

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

  app.get('/admin/keys', async () => ({ keys: (await keys.list()).map(keyView) }));

  app.get('/admin/keys/:id', { schema: { params: IdParams } }, async (request) => {
    const k = await keys.get((request.params as { id: string }).id);
    if (!k) throw notFound();
    return keyView(k);
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

  app.delete('/admin/keys/:id', { schema: { params: IdParams } }, async (request) => {
    const k = await revokeKey(keys, (request.params as { id: string }).id, ctx.now(), auditContext(ctx, request));
    if (!k) throw notFound();
    request.log.info({ keyId: k.id }, 'key revoked');
    return keyView(k);
  });
}
