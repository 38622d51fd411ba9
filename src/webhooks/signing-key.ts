/**
 * The gateway's own Ed25519 webhook key: the relay signs with it (relay-signature.ts) and
 * `GET /.well-known/jwks.json` publishes its public half. Taken from WEBHOOK_SIGNING_KEY when set,
 * else generated once and kept in the database (webhook-store.ts), so every instance signs with
 * the same key and a receiver's cached JWKS stays valid across restarts.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/** DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  use: 'sig';
  alg: 'EdDSA';
}

/** Parses WEBHOOK_SIGNING_KEY (PKCS#8 PEM, or base64 of the 32-byte seed); throws on anything else. */
export function parseSigningKey(text: string): KeyObject {
  const trimmed = text.trim();
  const key = trimmed.startsWith('-----BEGIN')
    ? createPrivateKey({ key: trimmed, format: 'pem' })
    : seedKey(Buffer.from(trimmed, 'base64'));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
  return key;
}

function seedKey(seed: Buffer): KeyObject {
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes');
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** Null when `text` parses as a signing key; else why not (never the key itself). */
export function signingKeyProblem(text: string): string | null {
  try {
    parseSigningKey(text);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : 'unreadable';
  }
}

/** A new key in its stored form (base64 PKCS#8 DER). */
export function generateStoredKey(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
}

export function storedKey(text: string): KeyObject {
  return createPrivateKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'pkcs8' });
}

/** The public JWK; `kid` is derived from the key, so every instance publishes the same one. */
export function publicJwk(privateKey: KeyObject): PublicJwk {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const x = String(jwk.x);
  return { kty: 'OKP', crv: 'Ed25519', x, kid: createHash('sha256').update(x).digest('hex').slice(0, 16), use: 'sig', alg: 'EdDSA' };
}
