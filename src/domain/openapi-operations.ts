/** OpenAPI paths for operators: readiness (/readyz) and Prometheus metrics (/metrics). */

type Json = Record<string, unknown>;

const REDIS_STATE = { type: 'string', enum: ['ok', 'not_configured', 'connecting', 'unreachable'], description: '`not_configured` without `REDIS_URL`; `connecting` before the first connection; `unreachable` during an outage (rate limits then count per instance).' };

const READY = {
  type: 'object',
  required: ['status', 'degraded', 'store', 'redis'],
  properties: {
    status: { const: 'ready' },
    degraded: { type: 'boolean', description: 'True while Redis is configured but not `ok`: the instance serves, rate limits count per instance. Alert on it; balancers act on the status code only.' },
    store: { const: 'ok' },
    redis: REDIS_STATE,
  },
};

const NOT_READY = {
  type: 'object',
  required: ['detail', 'error_type', 'request_id'],
  properties: {
    detail: { type: 'string', description: '`Store unavailable` or `Shutting down`.' },
    error_type: { const: 'service_unavailable' },
    request_id: { type: 'string' },
    store: { const: 'unavailable', description: 'Present when the store did not answer its ping.' },
    redis: REDIS_STATE,
  },
};

export function operationsPaths(): Json {
  return {
    '/readyz': {
      get: {
        tags: ['health'],
        operationId: 'readyz',
        summary: 'Readiness: the store answers (Redis reported separately)',
        security: [],
        responses: {
          '200': { description: 'Ready. `degraded: true` when Redis is configured but unreachable.', content: { 'application/json': { schema: READY } } },
          '503': {
            description: 'Not ready: the store does not answer, or the instance is shutting down (drain). `Retry-After` says when to look again.',
            headers: { 'retry-after': { schema: { type: 'string' } } },
            content: { 'application/json': { schema: NOT_READY } },
          },
        },
      },
    },
    '/metrics': {
      get: {
        tags: ['operations'],
        operationId: 'metrics',
        summary: 'Prometheus metrics of this instance (text exposition format 0.0.4)',
        description:
          'Counters and histograms count what this instance did (sum them across instances); the `*_budget_*` and `gateway_reservations_in_flight` gauges are global facts read from the database (aggregate them with max). Every name and label set is listed in the README (Operations, Metrics). Needs `Authorization: Bearer <METRICS_TOKEN>` when `METRICS_TOKEN` is set, else open.',
        security: [{}, { metricsToken: [] }],
        responses: {
          '200': { description: 'The metrics.', content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } } },
          '401': { $ref: '#/components/responses/401' },
        },
      },
    },
  };
}

export const METRICS_SECURITY_SCHEME: Json = { type: 'http', scheme: 'bearer', description: '`METRICS_TOKEN`, when set (GET /metrics only).' };
