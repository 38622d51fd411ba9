/**
 * One structured line per request, written when the response has been sent: gateway request id
 * (pino's reqId), client IP (as Fastify resolves it, TRUST_PROXY aware), key id, operation, status,
 * fal's request id and duration, and for a generation what it cost in integer micro-USD:
 * `chargedMicroUsd` for a sync run (the settled amount, 0 when nothing was billed),
 * `quotedMicroUsd` for a queue submit (its quote; the settlement comes later, see
 * GET /admin/requests). Both come from the answer's x-gateway-cost-usd. The URL is logged
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

/** x-gateway-cost-usd (fixed 6 decimals, accounting.ts costHeaders) → integer micro-USD, exactly; undefined if absent. */
function costMicro(reply: FastifyReply): number | undefined {
  const v = reply.getHeader('x-gateway-cost-usd');
  const m = typeof v === 'string' ? /^(\d{1,9})\.(\d{6})$/.exec(v) : null;
  return m ? Number(m[1]) * 1_000_000 + Number(m[2]) : undefined;
}

function costFields(op: RequestFacts['op'], reply: FastifyReply): Record<string, number> {
  const micro = op === 'run' || op === 'submit' ? costMicro(reply) : undefined;
  if (micro === undefined) return {};
  return op === 'run' ? { chargedMicroUsd: micro } : { quotedMicroUsd: micro };
}

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
      ip: request.ip,
      op: f.op,
      keyId: f.keyId,
      ...costFields(f.op, reply),
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
