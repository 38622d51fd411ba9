/** Liveness and readiness. Readiness checks the store, so a load balancer stops sending traffic to an instance that lost it. */
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../errors.js';
import type { PipelineContext } from '../../pipeline/context.js';

export function healthRoutes(app: FastifyInstance, ctx: PipelineContext, isClosing: () => boolean): void {
  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', async () => {
    if (isClosing()) throw new GatewayError('service_unavailable', 'Shutting down');
    try {
      await ctx.stores.ping();
    } catch {
      throw new GatewayError('service_unavailable', 'Store unavailable');
    }
    return { status: 'ready' };
  });
}
