/**
 * The `webhook_relay_failed` operator alert: a caller's webhook the relay gave up on (webhooks/
 * relay-worker.ts). A receiver that is down fails every relay for it, so alerts are coalesced per
 * instance: the first failure alerts at once, the failures after it within RELAY_ALERT_EVERY_MS
 * are counted and sent as one summary when that window ends. Each failure is also a log line at
 * error level (the worker's), so nothing is lost by coalescing.
 */
import type { Alert } from './alert.js';

export const RELAY_ALERT_EVERY_MS = 5 * 60_000;

export interface RelayFailureFacts {
  ledgerId: string;
  falRequestId: string | null;
  keyId: string;
  attempts: number;
  error: string;
}

export class RelayFailureAlerts {
  private windowEndsAt = Number.NEGATIVE_INFINITY;
  private held: RelayFailureFacts[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (alert: Alert) => void,
    private readonly now: () => Date,
    private readonly everyMs = RELAY_ALERT_EVERY_MS,
  ) {}

  failed(f: RelayFailureFacts): void {
    const t = this.now().getTime();
    if (t >= this.windowEndsAt) {
      this.windowEndsAt = t + this.everyMs;
      this.emit(`the webhook relay to key ${f.keyId}'s receiver gave up after ${f.attempts} attempts (${f.error}); request ${f.falRequestId ?? f.ledgerId}`, {
        failures: 1,
        key_id: f.keyId,
        ledger_id: f.ledgerId,
        fal_request_id: f.falRequestId,
        attempts: f.attempts,
        error: f.error,
      });
      return;
    }
    this.held.push(f);
    this.timer ??= setTimeout(() => this.flush(), this.windowEndsAt - t);
    this.timer.unref();
  }

  /** Drops what is held (the worker's log lines keep every failure). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.held = [];
  }

  /** The summary of the failures held in the window that just ended; it opens the next window. */
  private flush(): void {
    this.timer = undefined;
    const held = this.held;
    this.held = [];
    if (held.length === 0) return;
    this.windowEndsAt = this.now().getTime() + this.everyMs;
    const keys = [...new Set(held.map((f) => f.keyId))];
    const last = held[held.length - 1];
    this.emit(`${held.length} more webhook relays gave up in the last ${Math.round(this.everyMs / 1000)} s (keys: ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''})`, {
      failures: held.length,
      key_id: keys.length === 1 ? (keys[0] ?? null) : null,
      ledger_id: last?.ledgerId ?? null,
      fal_request_id: last?.falRequestId ?? null,
      attempts: last?.attempts ?? null,
      error: last?.error ?? null,
    });
  }

  private emit(summary: string, details: Alert['details']): void {
    this.send({ kind: 'webhook_relay_failed', summary, details, at: this.now().toISOString() });
  }
}
