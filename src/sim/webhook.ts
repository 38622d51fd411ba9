/**
 * fal's completion webhook (docs/fal-protocol.md §2.4), delivered only to loopback hosts: the sim must never
 * send traffic off the machine, whatever URL a caller supplies. One attempt, no signature (the
 * sim has no fal key pair to sign with).
 */
import { isIP } from 'node:net';

const WEBHOOK_TIMEOUT_MS = 15_000;

export function isLoopbackUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Webhook body; `payload` is JSON text inserted verbatim so a big seed survives. */
export function webhookBody(requestId: string, ok: boolean, payloadJson: string, status: number): string {
  const head = JSON.stringify({ request_id: requestId, gateway_request_id: requestId, status: ok ? 'OK' : 'ERROR', ...(ok ? {} : { error: `Invalid status code: ${status}` }) });
  return `${head.slice(0, -1)},"payload":${payloadJson}}`;
}

/** Posts the webhook if its host is loopback; failures are dropped (nobody to report them to). */
export async function deliverWebhook(url: string, body: string, lifetime: AbortSignal): Promise<void> {
  if (!isLoopbackUrl(url)) return;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      redirect: 'manual',
      signal: AbortSignal.any([lifetime, AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)]),
    });
    await res.arrayBuffer();
  } catch {
    // Receiver down or sim closing: fal would retry later; the sim just moves on.
  }
}
