/**
 * fal's webhook signature (docs/fal-protocol.md §2.4, §2.9): ED25519 over the UTF-8 text
 * `request_id \n user_id \n timestamp \n hex(sha256(raw body))`, sent hex-encoded in
 * `X-Fal-Webhook-Signature` with `X-Fal-Webhook-Request-Id`, `-User-Id` and `-Timestamp` (unix s).
 * The public half is published as a JWKS (`{keys:[{kty:"OKP",crv:"Ed25519",x}]}`), as fal does at
 * https://rest.fal.ai/.well-known/jwks.json. The sim makes a fresh key pair per start, plus one
 * key it never publishes, for the bad-signature fault.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export interface Jwk {
  kty: string;
  crv: string;
  x: string;
  kid: string;
  use: 'sig';
  alg: 'EdDSA';
}

export class WebhookSigner {
  private readonly published = generateKeyPairSync('ed25519');
  private readonly unpublished = generateKeyPairSync('ed25519');

  constructor(readonly userId: string) {}

  jwks(): { keys: Jwk[] } {
    const jwk = this.published.publicKey.export({ format: 'jwk' });
    return { keys: [{ kty: String(jwk.kty), crv: String(jwk.crv), x: String(jwk.x), kid: 'fal-sim-1', use: 'sig', alg: 'EdDSA' }] };
  }

  /** The four headers for one delivery of `body`; `forge` signs with the key nobody published. */
  headers(requestId: string, body: string, timestampS: number, forge: boolean): Record<string, string> {
    const key: KeyObject = forge ? this.unpublished.privateKey : this.published.privateKey;
    const signature = sign(null, Buffer.from(signedMessage(requestId, this.userId, timestampS, body), 'utf8'), key);
    return {
      'x-fal-webhook-request-id': requestId,
      'x-fal-webhook-user-id': this.userId,
      'x-fal-webhook-timestamp': String(timestampS),
      'x-fal-webhook-signature': signature.toString('hex'),
    };
  }
}

export function signedMessage(requestId: string, userId: string, timestampS: number, body: string | Buffer): string {
  const digest = createHash('sha256').update(body).digest('hex');
  return [requestId, userId, String(timestampS), digest].join('\n');
}
