/**
 * Verifies a delivery from fal as docs/fal-protocol.md §2.4 says: ED25519 over the UTF-8 text
 * `request_id \n user_id \n timestamp \n hex(sha256(raw body))`, hex signature, every published
 * key tried, and the timestamp within ±300 s of the gateway's clock (a replayed delivery is
 * refused once it is older than that; a younger replay is caught by the relay's own idempotency).
 */
import { createHash, verify, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { FalKeys } from './fal-keys.js';

export const TIMESTAMP_WINDOW_S = 300;

export type Verdict =
  | { ok: true; requestId: string; userId: string }
  | { ok: false; reason: 'missing_headers' | 'stale_timestamp' | 'bad_signature' | 'keys_unavailable' };

export function webhookMessage(requestId: string, userId: string, timestamp: string, body: Buffer): Buffer {
  const digest = createHash('sha256').update(body).digest('hex');
  return Buffer.from(`${requestId}\n${userId}\n${timestamp}\n${digest}`, 'utf8');
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export type SignedHeaders = { ok: true; requestId: string; userId: string; timestamp: string; signatureHex: string } | { ok: false; reason: 'missing_headers' | 'stale_timestamp' | 'bad_signature' };

/**
 * What can be checked of a delivery before its body is read: the four headers present, the
 * timestamp within the window, the signature 128 hex characters (64 bytes). The route runs this
 * before reading the body (http/routes/webhooks.ts), and verifyFalDelivery again after it.
 */
export function signedHeaders(headers: IncomingHttpHeaders, nowMs: number): SignedHeaders {
  const requestId = header(headers, 'x-fal-webhook-request-id');
  const userId = header(headers, 'x-fal-webhook-user-id');
  const timestamp = header(headers, 'x-fal-webhook-timestamp');
  const signatureHex = header(headers, 'x-fal-webhook-signature');
  if (requestId === undefined || userId === undefined || timestamp === undefined || signatureHex === undefined) return { ok: false, reason: 'missing_headers' };
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowMs / 1000 - Number(timestamp)) > TIMESTAMP_WINDOW_S) return { ok: false, reason: 'stale_timestamp' };
  if (!/^[0-9a-fA-F]{128}$/.test(signatureHex)) return { ok: false, reason: 'bad_signature' };
  return { ok: true, requestId, userId, timestamp, signatureHex };
}

export async function verifyFalDelivery(keys: FalKeys, headers: IncomingHttpHeaders, body: Buffer, nowMs: number): Promise<Verdict> {
  const signed = signedHeaders(headers, nowMs);
  if (!signed.ok) return signed;
  const { requestId, userId, timestamp, signatureHex } = signed;
  const message = webhookMessage(requestId, userId, timestamp, body);
  const signature = Buffer.from(signatureHex, 'hex');
  const matches = (list: KeyObject[]): boolean => list.some((key) => verify(null, message, key, signature));
  let cached: KeyObject[];
  try {
    cached = await keys.current();
  } catch {
    return { ok: false, reason: 'keys_unavailable' };
  }
  if (matches(cached)) return { ok: true, requestId, userId };
  // A key fal published since the cache was filled (rotation): fetch once more, then decide.
  let fresh: KeyObject[] | null;
  try {
    fresh = await keys.refreshed();
  } catch {
    return { ok: false, reason: 'bad_signature' };
  }
  return fresh !== null && matches(fresh) ? { ok: true, requestId, userId } : { ok: false, reason: 'bad_signature' };
}
