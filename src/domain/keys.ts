/**
 * Client credentials: generation, hashing and parsing. Pure; no storage here.
 *
 * A secret key is `fgw_sk_` + 32 base62 characters from a CSPRNG (~190 bits). Only its SHA-256 is
 * stored: a fast hash is right because the entropy is in the key, not a password
 * (docs/reliability.md B4, API2). The visible prefix makes keys recognisable to secret scanners.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SECRET_KEY_PREFIX = 'fgw_sk_';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SECRET_CHARS = 32;

/** `length` uniformly random base62 characters (rejection sampling: bytes ≥ 248 are skipped). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b >= 248) continue;
      out += ALPHABET[b % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export function generateSecretKey(): string {
  return SECRET_KEY_PREFIX + randomBase62(SECRET_CHARS);
}

/** Publishable keys (`fgw_pk_`) are meant to sit in a page; they only work from listed origins. */
export const PUBLISHABLE_KEY_PREFIX = 'fgw_pk_';

export function generatePublishableKey(): string {
  return PUBLISHABLE_KEY_PREFIX + randomBase62(SECRET_CHARS);
}

/** Short public identifier of a key record, safe to log and show. */
export function generateKeyId(): string {
  return `key_${randomBase62(16)}`;
}

export function hashKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** What may be shown of a secret after creation: its prefix and first four characters. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, SECRET_KEY_PREFIX.length + 4);
}

/**
 * The credential in an `Authorization` header: `Key <credential>` (what fal SDKs send) or
 * `Bearer <credential>`. Schemes are case-insensitive (RFC 9110 §11.1). Returns null when absent
 * or malformed.
 */
/**
 * Longest credential accepted (a browser token with many origins is the longest; secret keys are
 * far shorter). The token minter refuses to issue anything longer, so every minted token parses.
 */
export const MAX_CREDENTIAL_LENGTH = 4096;

export function parseAuthorization(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^(key|bearer)[ \t]+([^\s]+)[ \t]*$/i.exec(header);
  if (!m || m[2] === undefined || m[2].length > MAX_CREDENTIAL_LENGTH) return null;
  return m[2];
}

/**
 * Constant-time comparison of two secrets of any length: both sides are hashed first, because
 * `crypto.timingSafeEqual` throws on unequal lengths (and would leak the length by throwing).
 */
export function secretsEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}
