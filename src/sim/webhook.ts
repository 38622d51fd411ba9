/**
 * fal's completion webhook (docs/fal-protocol.md §2.4, §2.9), delivered only to loopback hosts: the
 * sim must never send traffic off the machine, whatever URL a caller supplies. Each attempt is
 * signed afresh (new timestamp, same request id: receivers deduplicate on it); a non-2xx answer
 * or a broken connection is retried with doubling backoff up to `webhookMaxRetries`; a 3xx is
 * final, as one version of fal's docs says. Faults: forged signatures, duplicated deliveries.
 */
import { isIP } from 'node:net';
import { sleep } from './http-io.js';
import type { SimCore } from './sim-state.js';

const WEBHOOK_TIMEOUT_MS = 15_000;
const MAX_BACKOFF_MS = 30 * 60_000;
const MAX_LOG = 10_000;

/** One POST the sim made, for tests (`webhookDeliveries()`, `GET /_sim/webhooks`). */
export interface WebhookAttempt {
  requestId: string;
  url: string;
  /** 0 for the first try, 1.. for retries; a duplicate delivery starts again at 0. */
  attempt: number;
  duplicate: boolean;
  forged: boolean;
  /** The receiver's status, or null when the connection failed or timed out. */
  status: number | null;
  at: number;
}

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

/** Delivers the webhook if its host is loopback, retrying, and once more under the duplicate fault. */
export async function deliverWebhook(core: SimCore, url: string, requestId: string, body: string): Promise<void> {
  if (!isLoopbackUrl(url)) return;
  const delivered = await deliverWithRetries(core, url, requestId, body, false);
  if (delivered && core.random() < core.faults.webhookDuplicateRate) {
    await deliverWithRetries(core, url, requestId, body, true);
  }
}

async function deliverWithRetries(core: SimCore, url: string, requestId: string, body: string, duplicate: boolean): Promise<boolean> {
  const signal = core.lifetime.signal;
  for (let attempt = 0; !signal.aborted; attempt++) {
    const forged = core.random() < core.faults.webhookBadSignatureRate;
    const status = await postOnce(core, url, requestId, body, forged);
    logAttempt(core, { requestId, url, attempt, duplicate, forged, status, at: core.now() });
    if (status !== null && status >= 200 && status < 400) return status < 300;
    if (attempt >= core.faults.webhookMaxRetries) return false;
    const wait = Math.min(core.faults.webhookBackoffMs * 2 ** attempt, MAX_BACKOFF_MS);
    if (!(await sleep(wait, signal))) return false;
  }
  return false;
}

async function postOnce(core: SimCore, url: string, requestId: string, body: string, forged: boolean): Promise<number | null> {
  const timestamp = Math.floor(core.now() / 1000);
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...core.signer.headers(requestId, body, timestamp, forged) },
      body,
      redirect: 'manual',
      signal: AbortSignal.any([core.lifetime.signal, AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)]),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return null; // receiver down, timed out, or the sim is closing
  }
}

function logAttempt(core: SimCore, a: WebhookAttempt): void {
  core.webhookLog.push(a);
  if (core.webhookLog.length > MAX_LOG) core.webhookLog.splice(0, core.webhookLog.length - MAX_LOG);
}
