/**
 * Turns every failure into fal's error shapes (docs/design.md §1). 5xx details go to the log, never to the
 * client.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_STATUS, GatewayError, ValidationRefusal, isStoreUnavailable, type ErrorCode } from '../errors.js';
import type { ValidationIssue } from '../domain/validation.js';
import type { RequestFacts } from '../pipeline/context.js';

export function sendError(reply: FastifyReply, err: GatewayError): FastifyReply {
  noteError(reply, err.code);
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply
    .code(err.status)
    .type('application/json')
    .send({ detail: err.detail, error_type: err.code, request_id: reply.request.id, ...err.extra });
}

/** fal's validation shape: 422 `{"detail": [{loc, msg, type, ctx?, input?}]}`. */
export function sendValidation(reply: FastifyReply, issues: ValidationIssue[]): FastifyReply {
  noteError(reply, 'validation');
  return reply.code(422).type('application/json').send({ detail: issues });
}

/** For the request metrics (refusals by reason); facts are null before the onRequest hooks ran. */
function noteError(reply: FastifyReply, code: string): void {
  const facts = reply.request.facts as RequestFacts | null;
  if (facts) facts.errorType = code;
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_request',
};

const STORE_RETRY_AFTER_S = 5;

export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | GatewayError | ValidationRefusal, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof ValidationRefusal) return sendValidation(reply, error.issues);
    if (error instanceof GatewayError) {
      if (error.status >= 500) request.log.error({ err: error }, 'request failed');
      return sendError(reply, error);
    }
    if (error.validation) {
      const issues: ValidationIssue[] = error.validation.map((v) => ({
        loc: ['body', ...v.instancePath.split('/').filter(Boolean)],
        msg: v.message ?? 'Invalid value',
        type: v.keyword,
        ...(v.params && Object.keys(v.params).length > 0 ? { ctx: v.params } : {}),
      }));
      return sendValidation(reply, issues);
    }
    const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (mapped) return sendError(reply, new GatewayError(mapped, error.message));
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(reply, new GatewayError('bad_request', error.message));
    }
    // The database did not answer. If the request never reached fal, nothing was reserved or
    // sent, so a retry is safe: 503 + Retry-After (fal clients retry it by themselves). A POST
    // that did reach fal stays a non-retryable 500: fal may have run it.
    // The client went away (its socket closed, so the relayed body stream was destroyed): not a
    // gateway fault, and nobody is left to answer. request-log.ts writes its line.
    if (reply.raw.destroyed) {
      request.log.info({ err: { message: error.message } }, 'client disconnected before the answer was sent');
      return sendError(reply, new GatewayError('bad_request', 'Client disconnected'));
    }
    if (isStoreUnavailable(error) && request.facts.sentToFal !== true) {
      request.log.warn({ err: error }, 'store unavailable');
      return sendError(
        reply,
        new GatewayError('service_unavailable', 'The gateway database is unavailable; nothing was reserved or sent to fal, so retrying is safe', { 'retry-after': String(STORE_RETRY_AFTER_S) }),
      );
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(reply, new GatewayError('internal_error', 'Internal error; quote the request_id when reporting it'));
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new GatewayError('not_found', `No route for ${request.method} ${request.url.split('?')[0] ?? ''}`)),
  );
}

export { ERROR_STATUS };
