/**
 * Short-lived browser tokens (docs/design.md §1.3). A secret-key holder mints one for a page; the page uses
 * it as its fal credentials with `proxyUrl`. Tokens are stateless: `fgw_tk_<payload>.<mac>`, an
 * HMAC-SHA256 over the base64url JSON payload, so every gateway instance can verify them without a
 * shared store. What must be shared is state the token consumes (its spend and image count), and
 * that lives in the ledger's counters. Revoking the parent key kills its tokens because each use
 * looks the parent up.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { MAX_CREDENTIAL_LENGTH, randomBase62 } from './keys.js';

export const TOKEN_PREFIX = 'fgw_tk_';
/** docs/design.md §1.3: expiry ≤ 1 h. */
export const MAX_TOKEN_TTL_S = 3600;

export interface TokenClaims {
  /** Token id: names its counters and appears in the ledger. */
  id: string;
  /** Parent key id. */
  keyId: string;
  /** Expiry, unix seconds. */
  exp: number;
  maxMicroUsd: number | null;
  maxImages: number | null;
  allowedOrigins: string[];
  endUser: string | null;
}

interface Payload {
  v: 1;
  id: string;
  kid: string;
  exp: number;
  usd?: number;
  img?: number;
  org?: string[];
  eu?: string;
}

/** The MAC key, derived from TOKEN_SECRET (or FAL_KEY, which every instance already shares). */
export function tokenMacKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'fal-gateway', 'browser-token v1', 32));
}

/** Mints a token, or `null` when its claims make it longer than any credential is accepted (MAX_CREDENTIAL_LENGTH). */
export function mintToken(macKey: Buffer, claims: Omit<TokenClaims, 'id'>): { token: string; id: string } | null {
  const id = `tok_${randomBase62(16)}`;
  const payload: Payload = { v: 1, id, kid: claims.keyId, exp: claims.exp };
  if (claims.maxMicroUsd !== null) payload.usd = claims.maxMicroUsd;
  if (claims.maxImages !== null) payload.img = claims.maxImages;
  if (claims.allowedOrigins.length > 0) payload.org = claims.allowedOrigins;
  if (claims.endUser !== null) payload.eu = claims.endUser;
  const body = TOKEN_PREFIX + Buffer.from(JSON.stringify(payload)).toString('base64url');
  const token = `${body}.${mac(macKey, body)}`;
  return token.length > MAX_CREDENTIAL_LENGTH ? null : { token, id };
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: 'malformed' | 'expired' };

/** Verifies the MAC (constant time) and the expiry at `nowS`. */
export function verifyToken(macKey: Buffer, token: string, nowS: number): TokenCheck {
  const dot = token.lastIndexOf('.');
  if (!token.startsWith(TOKEN_PREFIX) || dot < 0 || token.length > MAX_CREDENTIAL_LENGTH) return { ok: false, reason: 'malformed' };
  const body = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = Buffer.from(mac(macKey, body), 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'malformed' };
  let p: Payload;
  try {
    p = JSON.parse(Buffer.from(body.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8')) as Payload;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (p.v !== 1 || typeof p.id !== 'string' || typeof p.kid !== 'string' || typeof p.exp !== 'number') return { ok: false, reason: 'malformed' };
  if (p.exp <= nowS) return { ok: false, reason: 'expired' };
  return {
    ok: true,
    claims: { id: p.id, keyId: p.kid, exp: p.exp, maxMicroUsd: p.usd ?? null, maxImages: p.img ?? null, allowedOrigins: p.org ?? [], endUser: p.eu ?? null },
  };
}

function mac(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}

/** An origin as browsers send it: scheme, host and optional port, nothing else. */
export function isOrigin(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === value;
  } catch {
    return false;
  }
}

/** Body of `POST /v1/tokens` (declared once: validation and the OpenAPI document). */
export const TokenBody = Type.Object(
  {
    expires_in: Type.Optional(Type.Integer({ minimum: 10, maximum: MAX_TOKEN_TTL_S, description: 'Seconds until expiry (default 900, at most 3600)' })),
    max_usd: Type.Optional(Type.Number({ minimum: 0, maximum: 1e6 })),
    max_images: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    allowed_origins: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 20 })),
    end_user: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: false },
);
