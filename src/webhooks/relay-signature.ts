/**
 * The gateway's signature on a relayed delivery: the layout of fal's (docs/fal-protocol.md §2.4)
 * under the gateway's own header names and key, so a receiver verifies it with the code it would
 * use for fal, pointed at the gateway's JWKS. Message: `request_id \n user_id \n timestamp \n
 * hex(sha256(raw body))`, where request_id is fal's and user_id is the gateway key id that submitted.
 */
import { sign, type KeyObject } from 'node:crypto';
import type { Config } from '../config.js';
import type { WebhookStore } from '../store/webhook-store.js';
import { webhookMessage } from './fal-verify.js';
import { generateStoredKey, parseSigningKey, publicJwk, storedKey, type PublicJwk } from './signing-key.js';

export interface RelaySigner {
  jwks(): { keys: PublicJwk[] };
  headers(requestId: string, userId: string, body: Buffer, timestampS: number): Record<string, string>;
}

/** The key from WEBHOOK_SIGNING_KEY, else the one in the database (stored by whichever instance came first). */
export async function loadRelaySigner(config: Config, store: WebhookStore, nowMs: number): Promise<RelaySigner> {
  const key: KeyObject = config.webhooks.signingKey !== undefined
    ? parseSigningKey(config.webhooks.signingKey)
    : storedKey(await store.signingKey(generateStoredKey(), nowMs));
  const jwk = publicJwk(key);
  return {
    jwks: () => ({ keys: [jwk] }),
    headers: (requestId, userId, body, timestampS) => ({
      'x-gateway-webhook-request-id': requestId,
      'x-gateway-webhook-user-id': userId,
      'x-gateway-webhook-timestamp': String(timestampS),
      'x-gateway-webhook-signature': sign(null, webhookMessage(requestId, userId, String(timestampS), body), key).toString('hex'),
    }),
  };
}
