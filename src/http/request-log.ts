/**
 * One structured line per request, written when the response has been sent: gateway request id
 * (pino's reqId), key id, operation, status, fal's request id and duration. The URL is logged
 * without its query string. A client that disconnects before its answer was sent still gets its
 * line (`aborted: true`): Fastify runs onResponse only on 'finish', never on a bare 'close'.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestFacts } from '../pipeline/context.js';

declare module 'fastify' {
  interface FastifyRequest {
    facts: RequestFacts;
  }
}

const logged = new WeakSet<FastifyRequest>();

function logLine(request: FastifyRequest, reply: FastifyReply, aborted: boolean): void {
  if (logged.has(request)) return;
  logged.add(request);
  const f = request.facts;
  request.log.info(
    {
      method: request.method,
      path: request.url.split('?', 1)[0],
      // 499: nginx's "client closed request", when no status line reached the client.
      status: aborted && !reply.raw.headersSent ? 499 : reply.statusCode,
      op: f.op,
      keyId: f.keyId,
      falRequestId: f.falRequestId,
      ms: Math.round(reply.elapsedTime * 100) / 100,
      ...(aborted ? { aborted: true } : {}),
    },
    aborted ? 'request (client disconnected before the answer was sent)' : 'request',
  );
}

export function registerRequestLog(app: FastifyInstance): void {
  app.decorateRequest('facts', null as unknown as RequestFacts);
  app.addHook('onRequest', (request, reply, done) => {
    request.facts = {};
    reply.header('x-gateway-request-id', request.id);
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) logLine(request, reply, true);
    });
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    logLine(request, reply, false);
    done();
  });
}
