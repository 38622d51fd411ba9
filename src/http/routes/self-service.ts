/** `GET /v1/usage`: a key holder's own spend, reservations, budgets and limits. */
import type { FastifyInstance } from 'fastify';
import type { PipelineContext } from '../../pipeline/context.js';
import { authenticate } from '../../pipeline/principal.js';
import { selfUsage } from '../../services/usage-report.js';

export function selfServiceRoutes(app: FastifyInstance, ctx: PipelineContext): void {
  app.get('/v1/usage', async (request) => {
    request.facts.op = 'usage';
    const principal = await authenticate(ctx.stores.keys, request.headers.authorization);
    request.facts.keyId = principal.keyId;
    return selfUsage(ctx.stores.ledger, ctx.stores.teams, principal.key, ctx.now());
  });
}
