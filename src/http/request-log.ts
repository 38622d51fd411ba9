/**
 * One structured line per request, written when the response has been sent: gateway request id
 * (pino's reqId), key id, operation, status, fal's request id and duration. The URL is logged
 * without its query string.
 */
import type { FastifyInstance } from 'fastify';
import type { RequestFacts } from '../pipeline/context.js';

declare module 'fastify' {
  interface FastifyRequest {
    facts: RequestFacts;
  }
}

export function registerRequestLog(app: FastifyInstance): void {
  app.decorateRequest('facts', null as unknown as RequestFacts);
  app.addHook('onRequest', (request, reply, done) => {
    request.facts = {};
    reply.header('x-gateway-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const f = request.facts;
    request.log.info(
      {
        method: request.method,
        path: request.url.split('?', 1)[0],
        status: reply.statusCode,
        op: f.op,
        keyId: f.keyId,
        falRequestId: f.falRequestId,
        ms: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request',
    );
    done();
  });
}
