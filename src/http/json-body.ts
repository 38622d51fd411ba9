/**
 * Request bodies. Only `application/json` (optionally `; charset=utf-8`) is accepted, matched
 * strictly on our side (Fastify content-type bypasses: GHSA-mg2h-6x62-wpwc, GHSA-jx2c-rxcm-jvmq).
 * The raw bytes are kept: the gateway forwards exactly what it validated, byte for byte, so a
 * seed above 2^53 is never rounded by a parse/serialise round trip.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { GatewayError } from '../errors.js';

export interface JsonBody {
  raw: Buffer;
  /** The parsed value; `undefined` for an empty body (GETs and the cancel PUT send none). */
  value: unknown;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const JSON_MEDIA = /^application\/json[ \t]*(;[ \t]*charset[ \t]*=[ \t]*"?utf-8"?[ \t]*)?$/i;

export function registerJsonBody(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  // Catch-all so we decide (415 in fal's shape) instead of Fastify's own message.
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (req: FastifyRequest, body: Buffer, done) => {
    const type = req.headers['content-type'] ?? '';
    if (!JSON_MEDIA.test(type)) {
      // A body-less request with a stray content type (fal clients send one on GETs and PUTs) is fine.
      if (body.length === 0) return done(null, { raw: body, value: undefined } satisfies JsonBody);
      return done(new GatewayError('unsupported_media_type', 'Content-Type must be application/json'), undefined);
    }
    if (body.length === 0) return done(null, { raw: body, value: undefined } satisfies JsonBody);
    // What is validated must be what fal parses: no BOM (stripped by JS parsers, maybe not by
    // fal's), and strictly valid UTF-8 (a lenient decode would validate U+FFFD, forward raw bytes).
    if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) {
      return done(new GatewayError('bad_request', 'Request body must not start with a byte order mark'), undefined);
    }
    let value: unknown;
    try {
      value = sjson.parse(UTF8.decode(body), undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      return done(new GatewayError('bad_request', 'Request body is not valid JSON'), undefined);
    }
    done(null, { raw: body, value } satisfies JsonBody);
  });
}

/** The parsed body of a request, whatever route it reached. */
export function jsonBody(req: FastifyRequest): JsonBody | undefined {
  const b = req.body as JsonBody | undefined;
  return b && Buffer.isBuffer(b.raw) ? b : undefined;
}
