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

/**
 * Deepest accepted nesting of arrays/objects. Far beyond any fal input (SD3.5's deepest field is
 * `loras[].path`), and low enough that every recursive step after parsing (schema validation,
 * the 422 that echoes `input`, logging) stays far from the stack limit.
 */
export const MAX_JSON_DEPTH = 64;

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
    let text: string;
    try {
      text = UTF8.decode(body);
    } catch {
      return done(new GatewayError('bad_request', 'Request body is not valid JSON'), undefined);
    }
    if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
      return done(new GatewayError('bad_request', `Request body nests arrays/objects deeper than ${MAX_JSON_DEPTH} levels`), undefined);
    }
    let value: unknown;
    try {
      value = sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      return done(new GatewayError('bad_request', 'Request body is not valid JSON'), undefined);
    }
    done(null, { raw: body, value } satisfies JsonBody);
  });
}

/** Whether brackets outside strings nest deeper than `max`, in one pass (JSON.parse's own recursion is not bounded). */
function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** The parsed body of a request, whatever route it reached. */
export function jsonBody(req: FastifyRequest): JsonBody | undefined {
  const b = req.body as JsonBody | undefined;
  return b && Buffer.isBuffer(b.raw) ? b : undefined;
}
