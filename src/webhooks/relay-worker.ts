/**
 * Sends stored deliveries (store/webhook-store.ts) to callers' URLs. Each tick claims the due rows
 * with a lease (one instance per row), re-checks the URL against the key's allowed_webhook_urls as
 * they stand now, and POSTs fal's body unchanged with the gateway's signature. Only the answer's
 * status is used (its body is cancelled unread). A 2xx ends it; a 3xx is final, as fal treats it
 * (docs/fal-protocol.md §2.4); anything else, or no answer within SEND_TIMEOUT_MS, is retried
 * after WEBHOOK_RELAY_BACKOFF_MS doubling per attempt (at most MAX_BACKOFF_MS) until
 * WEBHOOK_RELAY_MAX_ATTEMPTS, then the row is marked failed, logged at error level and reported
 * to `onGaveUp` (the webhook_relay_failed alert and its counter).
 * Delivery is at least once: a sender that dies after the receiver answered but before its write
 * sends again when the lease runs out; receivers deduplicate on the request id.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import { webhookAllowed } from '../domain/webhook.js';
import type { Stores } from '../store/stores.js';
import type { RelayOutcome, RelayRow } from '../store/webhook-store.js';
import type { RelaySigner } from './relay-signature.js';

const SEND_TIMEOUT_MS = 15_000;
/** Longer than a send can take, so a live sender never loses its row mid-send. */
const LEASE_MS = 60_000;
const MAX_BACKOFF_MS = 60 * 60_000;
const BATCH = 20;
/**
 * How long finished deliveries (with their bodies) and registrations fal never delivered to are
 * kept: well past fal's retry span (hours, docs/fal-protocol.md §2.4), so a late delivery still
 * finds its registration. Rows still being retried (`pending`) are never pruned.
 */
export const RELAY_RETENTION_MS = 7 * 24 * 60 * 60_000;
const PRUNE_EVERY_MS = 60 * 60_000;

/** A relay the worker gave up on; `error` is the gateway's own wording, never the receiver's body. */
export interface RelayFailure {
  ledgerId: string;
  falRequestId: string | null;
  keyId: string;
  attempts: number;
  error: string;
}

export class RelayWorker {
  private readonly owner = `relay_${randomUUID()}`;
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private prunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly stores: Stores,
    private readonly config: Config,
    private readonly signer: () => Promise<RelaySigner>,
    private readonly log: FastifyBaseLogger,
    private readonly now: () => number,
    /** A delivery given up on (the operator alert and metric, app.ts). */
    private readonly onGaveUp: (failure: RelayFailure) => void = () => undefined,
  ) {}

  start(): void {
    const every = Math.min(1_000, this.config.webhooks.relayBackoffMs);
    this.timer = setInterval(() => this.kick(), every);
    this.timer.unref();
  }

  /** Runs a tick now (a delivery was just stored); a tick already running runs once more after. */
  kick(): void {
    if (this.abort.signal.aborted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.tick()
      .catch((err: unknown) => this.log.warn({ err }, 'webhook relay tick failed; the next tick retries'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.abort.abort();
    await this.running;
  }

  private async tick(): Promise<void> {
    const now = this.now();
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = now;
      const pruned = await this.stores.webhooks.prune(now - RELAY_RETENTION_MS);
      if (pruned > 0) this.log.info({ pruned }, 'pruned old webhook relay rows');
    }
    for (;;) {
      const rows = await this.stores.webhooks.claimDue(this.owner, this.now(), LEASE_MS, BATCH);
      if (rows.length === 0) return;
      const signer = await this.signer();
      await Promise.all(rows.map((row) => this.deliver(row, signer)));
      if (rows.length < BATCH || this.abort.signal.aborted) return;
    }
  }

  private async deliver(row: RelayRow, signer: RelaySigner): Promise<void> {
    const outcome = await this.attempt(row, signer);
    const recorded = await this.stores.webhooks.finish(row.ledgerId, this.owner, outcome);
    const facts = { falRequestId: row.falRequestId, keyId: row.keyId, attempt: row.attempts + 1, status: outcome.status };
    if (!recorded) this.log.warn(facts, 'webhook relay lost its lease before recording the attempt');
    else if (outcome.kind === 'delivered') this.log.info(facts, 'webhook relayed');
    else if (outcome.kind === 'retry') this.log.warn({ ...facts, error: outcome.error, nextAttemptAt: new Date(outcome.nextAttemptAt).toISOString() }, 'webhook relay attempt failed; retrying');
    else {
      this.log.error({ ...facts, error: outcome.error, alert: 'webhook_relay_failed' }, 'webhook relay gave up');
      this.onGaveUp({ ledgerId: row.ledgerId, falRequestId: row.falRequestId, keyId: row.keyId, attempts: row.attempts + 1, error: outcome.error });
    }
  }

  private async attempt(row: RelayRow, signer: RelaySigner): Promise<RelayOutcome> {
    const at = this.now();
    const key = await this.stores.keys.get(row.keyId);
    const allowLoopbackHttp = this.config.webhooks.allowLoopbackHttp;
    if (key === null || key.revokedAt !== null) return { kind: 'failed', status: null, error: 'the key was revoked or deleted', at };
    if (row.body === null || row.falRequestId === null || row.url === null) return { kind: 'failed', status: null, error: 'no delivery stored', at };
    if (!webhookAllowed(row.url, key.allowedWebhookUrls, { allowLoopbackHttp })) return { kind: 'failed', status: null, error: 'the URL is no longer under the key\'s allowed_webhook_urls', at };
    let status: number | null = null;
    let error: string;
    try {
      const res = await fetch(row.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signer.headers(row.falRequestId, row.keyId, row.body, Math.floor(at / 1000)) },
        body: row.body,
        redirect: 'manual',
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(SEND_TIMEOUT_MS)]),
      });
      // Only the status counts: the receiver's body is never read (it could be any size, or
      // endless), and cancelling it closes the connection instead of draining it.
      await res.body?.cancel().catch(() => undefined);
      status = res.status;
      if (status >= 200 && status < 300) return { kind: 'delivered', status, at: this.now() };
      if (status >= 300 && status < 400) return { kind: 'failed', status, error: `receiver answered ${status} (redirects are not followed)`, at: this.now() };
      error = `receiver answered ${status}`;
    } catch (err) {
      error = err instanceof Error && err.name === 'TimeoutError' ? 'no answer in time' : 'connection failed';
    }
    const attempts = row.attempts + 1;
    if (attempts >= this.config.webhooks.relayMaxAttempts) return { kind: 'failed', status, error: `${error} after ${attempts} attempts`, at: this.now() };
    const wait = Math.min(this.config.webhooks.relayBackoffMs * 2 ** (attempts - 1), MAX_BACKOFF_MS);
    return { kind: 'retry', status, error, nextAttemptAt: this.now() + wait };
  }
}
