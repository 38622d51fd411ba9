/**
 * GET /metrics in Prometheus text format (observability/metrics.ts). With METRICS_TOKEN set, a
 * scrape must send `Authorization: Bearer <token>`, compared in constant time; the token is never
 * logged (the request line logs no headers).
 */
import type { FastifyInstance } from 'fastify';
import { parseAuthorization, secretsEqual } from '../../domain/keys.js';
import { GatewayError } from '../../errors.js';
import type { GatewayMetrics } from '../../observability/metrics.js';

export function metricsRoutes(app: FastifyInstance, metrics: GatewayMetrics, token: string | undefined): void {
  app.get('/metrics', async (request, reply) => {
    if (token !== undefined) {
      const given = parseAuthorization(request.headers.authorization);
      if (given === null || !secretsEqual(given, token)) {
        throw new GatewayError('unauthorized', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>', { 'www-authenticate': 'Bearer' });
      }
    }
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}
