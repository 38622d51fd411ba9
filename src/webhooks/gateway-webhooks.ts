/**
 * Webhook settlement and relay, wired once per app (app.ts): fal's keys, the gateway's signer,
 * the relay worker, and what a verified delivery from fal does. Active only with a webhook public
 * URL (WEBHOOK_PUBLIC_URL or PUBLIC_URL): without one fal cannot reach the gateway, and a caller's
 * fal_webhook goes to fal unchanged (domain/webhook.ts, queue-ops.ts).
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';
import { jsonBody } from '../http/json-body.js';
import type { PipelineContext } from '../pipeline/context.js';
import type { LedgerRow } from '../store/ledger-store.js';
import { FalKeys } from './fal-keys.js';
import { signedHeaders, TIMESTAMP_WINDOW_S, verifyFalDelivery } from './fal-verify.js';
import { loadRelaySigner, type RelaySigner } from './relay-signature.js';
import { RelayWorker, type RelayFailure } from './relay-worker.js';

export const FAL_WEBHOOK_PATH = '/webhooks/fal';

/** Why a delivery to /webhooks/fal was refused: a fixed set (the metric's label, the log's reason). */
export type DeliveryRefusal = 'missing_headers' | 'stale_timestamp' | 'bad_signature' | 'keys_unavailable' | 'body_mismatch' | 'unknown_request' | 'store_unavailable' | 'overloaded';

/**
 * Deliveries admitted (headers checked) and not yet answered, at most: each may buffer up to the
 * route's 16 MiB body, so this bounds that memory. Beyond it a delivery is answered 503 before its
 * body is read, and fal retries it (docs/fal-protocol.md §2.4).
 */
export const MAX_DELIVERIES_IN_FLIGHT = 8;

/** What the webhooks report to the operator's side (metrics and alerts, wired in app.ts). */
export interface WebhookEvents {
  delivery(outcome: { accepted: true } | { accepted: false; reason: DeliveryRefusal }): void;
  relayFailed(failure: RelayFailure): void;
}

const NO_EVENTS: WebhookEvents = { delivery: () => undefined, relayFailed: () => undefined };

/** The URL the gateway registers with fal, or null when no webhook public URL is configured. */
export function gatewayWebhookUrl(ctx: PipelineContext): string | null {
  const base = ctx.config.webhooks.publicUrl;
  return base === undefined ? null : `${base}${FAL_WEBHOOK_PATH}`;
}

export class GatewayWebhooks {
  readonly worker: RelayWorker;
  private readonly falKeys: FalKeys;
  private signer: Promise<RelaySigner> | undefined;
  private inFlight = 0;

  constructor(
    private readonly ctx: PipelineContext,
    log: FastifyBaseLogger,
    private readonly events: WebhookEvents = NO_EVENTS,
  ) {
    const now = () => ctx.now().getTime();
    this.falKeys = new FalKeys(ctx.config.webhooks.falJwksUrl, now, log);
    this.worker = new RelayWorker(ctx.stores, ctx.config, () => this.relaySigner(), log, now, (f) => events.relayFailed(f));
  }

  /** Loaded once; a store failure is not remembered, so the next call tries again. */
  relaySigner(): Promise<RelaySigner> {
    this.signer ??= loadRelaySigner(this.ctx.config, this.ctx.stores.webhooks, this.ctx.now().getTime()).catch((err: unknown) => {
      this.signer = undefined;
      throw err;
    });
    return this.signer;
  }

  /**
   * Runs before the body of a POST to /webhooks/fal is read (the route's onRequest): refuses a
   * delivery that cannot be valid from its headers alone (401) or beyond MAX_DELIVERIES_IN_FLIGHT
   * (503). Such a refusal closes the connection rather than draining the unread body. An admitted
   * delivery holds its slot until its connection's answer is done (or the connection is gone).
   * Returns the refusal, or null when admitted.
   */
  admit(request: FastifyRequest, reply: FastifyReply): GatewayError | null {
    const signed = signedHeaders(request.headers, this.ctx.now().getTime());
    const reason = !signed.ok ? signed.reason : this.inFlight >= MAX_DELIVERIES_IN_FLIGHT ? 'overloaded' : null;
    if (reason !== null) {
      this.refused(request, reason);
      return refusalError(reason, { connection: 'close' });
    }
    this.inFlight++;
    reply.raw.once('close', () => this.inFlight--);
    return null;
  }

  /** Logs and counts a refusal, never the signature or body. */
  private refused(request: FastifyRequest, reason: DeliveryRefusal, id = falRequestIdOf(request)): void {
    request.log.warn({ falRequestId: id, reason }, 'fal webhook refused');
    this.events.delivery({ accepted: false, reason });
  }

  /**
   * A POST to /webhooks/fal. Refusals settle nothing and are logged with their reason (never the
   * signature or body). A valid delivery is stored for the relay before the answer (a 200 tells
   * fal to stop retrying, so the relay must survive a crash from then on); the row's settlement
   * (one result fetch, queue-settler.ts) and the relay itself run after the answer.
   */
  async receive(request: FastifyRequest): Promise<void> {
    const raw = jsonBody(request)?.raw ?? Buffer.alloc(0);
    const verdict = await verifyFalDelivery(this.falKeys, request.headers, raw, this.ctx.now().getTime());
    if (!verdict.ok) {
      this.refused(request, verdict.reason);
      throw refusalError(verdict.reason);
    }
    const payload = jsonBody(request)?.value as { request_id?: unknown; status?: unknown } | undefined;
    if (payload?.request_id !== verdict.requestId || (payload.status !== 'OK' && payload.status !== 'ERROR')) {
      this.refused(request, 'body_mismatch', verdict.requestId);
      throw refusalError('body_mismatch');
    }
    let row: LedgerRow | null;
    let queued: boolean;
    try {
      row = await this.ctx.stores.ledger.findByFalRequestId(verdict.requestId);
      // Also fal delivering before the submit's request id was recorded: any non-2xx makes fal
      // retry (docs/fal-protocol.md §2.4), and a later attempt finds the row.
      queued = row !== null && (await this.ctx.stores.webhooks.received(row.id, verdict.requestId, raw, this.ctx.now().getTime()));
    } catch (err) {
      this.refused(request, 'store_unavailable', verdict.requestId);
      throw err;
    }
    if (row === null) {
      this.refused(request, 'unknown_request', verdict.requestId);
      throw refusalError('unknown_request');
    }
    request.facts.falRequestId = verdict.requestId;
    this.events.delivery({ accepted: true });
    request.log.info({ falRequestId: verdict.requestId, ledgerId: row.id, status: payload.status, relay: queued, settle: row.state === 'reserved' }, 'fal webhook accepted');
    const failed = payload.status === 'ERROR';
    const settle = row.state === 'reserved';
    setImmediate(() => {
      if (settle) void this.ctx.settler.settle(verdict.requestId, failed);
      if (queued) this.worker.kick();
    });
  }

  start(): void {
    this.worker.start();
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }
}

function falRequestIdOf(request: FastifyRequest): string | undefined {
  const id = request.headers['x-fal-webhook-request-id'];
  return typeof id === 'string' ? id.slice(0, 128) : undefined;
}

/** The answer to a refused delivery (a store failure answers the store's own error); fal retries any non-2xx. */
function refusalError(reason: Exclude<DeliveryRefusal, 'store_unavailable'>, headers: Record<string, string> = {}): GatewayError {
  switch (reason) {
    case 'keys_unavailable':
      return new GatewayError('service_unavailable', "fal's webhook keys could not be fetched; deliver again later", { ...headers, 'retry-after': '60' });
    case 'overloaded':
      return new GatewayError('service_unavailable', 'Too many webhook deliveries in progress; deliver again later', { ...headers, 'retry-after': '5' });
    case 'stale_timestamp':
      return new GatewayError('unauthorized', `Webhook timestamp is outside the ${TIMESTAMP_WINDOW_S} s window`, headers);
    case 'missing_headers':
    case 'bad_signature':
      return new GatewayError('unauthorized', 'Webhook signature missing or invalid', headers);
    case 'body_mismatch':
      return new GatewayError('bad_request', 'Webhook body must carry the signed request_id and a status of OK or ERROR', headers);
    case 'unknown_request':
      return new GatewayError('bad_request', 'Unknown request id', headers);
  }
}
