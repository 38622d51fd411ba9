/**
 * Proxy mode: `@fal-ai/client`'s `proxyUrl` protocol (docs/design.md §1.2). The real fal URL arrives in
 * `x-fal-target-url`; only this model's targets pass, and they enter the same pipeline as host mode.
 * Everything else is refused with 403 and sent nowhere.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseTargetUrl } from '../../domain/target-url.js';
import { GatewayError } from '../../errors.js';
import type { PipelineContext } from '../../pipeline/context.js';
import { execute } from '../../pipeline/execute.js';

export const PROXY_PATH = '/api/fal/proxy';

export function proxyModeRoutes(app: FastifyInstance, ctx: PipelineContext): void {
  const handler = (request: FastifyRequest, reply: FastifyReply) => {
    request.facts.door = 'proxy';
    const decision = parseTargetUrl(request.headers['x-fal-target-url'], request.method);
    if (!decision.ok) throw new GatewayError('forbidden', `Target not allowed: ${decision.reason}`);
    return execute(ctx, decision.op, request, reply);
  };
  app.route({ method: ['GET', 'POST', 'PUT'], url: PROXY_PATH, handler });
  // Preflight; CORS headers are added by the CORS layer when origins are configured.
  app.options(PROXY_PATH, (_request, reply) => reply.code(204).send());
}
