/**
 * Liveness and readiness. Readiness checks the store, so a load balancer stops sending traffic to
 * an instance that lost it (503). A lost Redis only degrades the instance (rate limits count per
 * instance, pipeline/rate-counters.ts): it stays ready (200) with `degraded: true`, and the store
 * and Redis are reported separately so an operator can alert on either.
 */
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../errors.js';
import type { PipelineContext } from '../../pipeline/context.js';

/** A frozen database must not hold /readyz: the store's own timeouts apply, this is the backstop. */
const PING_TIMEOUT_MS = 5_000;

export function healthRoutes(app: FastifyInstance, ctx: PipelineContext, isClosing: () => boolean): void {
  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', async () => {
    const redis = ctx.limits.redisState();
    if (isClosing()) throw new GatewayError('service_unavailable', 'Shutting down', { 'retry-after': '1' });
    try {
      await withTimeout(ctx.stores.ping(), PING_TIMEOUT_MS);
    } catch {
      throw new GatewayError('service_unavailable', 'Store unavailable', { 'retry-after': '5' }, { store: 'unavailable', redis });
    }
    const degraded = redis !== 'ok' && redis !== 'not_configured';
    return { status: 'ready', degraded, store: 'ok', redis };
  });
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
