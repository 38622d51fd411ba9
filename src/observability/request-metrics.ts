/**
 * Request counts, latencies and refusals, from the facts the request line reports
 * (pipeline/context.ts RequestFacts, http/request-log.ts). Recorded once per request when the answer
 * has been sent, or as status 499 when the client left before it was (the same rule as the log line).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestFacts } from '../pipeline/context.js';
import type { GatewayMetrics, RefusalReason } from './metrics.js';

/** Error codes (errors.ts, plus `validation` for fal's 422 shape) that are refusals, by reason. */
const REFUSALS: Partial<Record<string, RefusalReason>> = {
  budget_exceeded: 'budget',
  rate_limited: 'rate',
  concurrency_limited: 'concurrency',
  forbidden: 'forbidden',
  validation: 'validation',
};

/** Refusals of model API requests (host and proxy doors); an admin call's 422 or 403 is not one. */
export function refusalReason(facts: RequestFacts): RefusalReason | undefined {
  if (facts.errorType === undefined || facts.door === undefined) return undefined;
  return facts.refusal ?? REFUSALS[facts.errorType];
}

export function registerRequestMetrics(app: FastifyInstance, metrics: GatewayMetrics): void {
  const counted = new WeakSet<FastifyRequest>();
  const record = (request: FastifyRequest, reply: FastifyReply, aborted: boolean): void => {
    if (counted.has(request)) return;
    counted.add(request);
    // Null only for a request refused before the onRequest hooks ran (e.g. while closing).
    const facts = request.facts as RequestFacts | null;
    const labels = {
      operation: facts?.op ?? 'other',
      door: facts?.door ?? 'none',
      status: String(aborted && !reply.raw.headersSent ? 499 : reply.statusCode),
    };
    metrics.requests.inc(labels);
    metrics.requestDuration.observe(labels, reply.elapsedTime / 1000);
    const reason = facts ? refusalReason(facts) : undefined;
    if (reason !== undefined) metrics.refused(reason);
  };
  app.addHook('onRequest', (request, reply, done) => {
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) record(request, reply, true);
    });
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    record(request, reply, false);
    done();
  });
}
