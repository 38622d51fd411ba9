/**
 * Delivers alerts: one warn log line each, and a POST to the operator webhook off the request path
 * (the caller never waits for it). A delivery that fails (a network error or a non-2xx answer) is
 * retried with exponential backoff, ATTEMPTS times in all, then given up with a log line: an alert
 * must never hold memory or sockets for long when the receiver is down.
 */
import { request } from 'undici';
import type { AlertConfig } from '../config.js';
import { alertBody, signature, type Alert } from './alert.js';

const ATTEMPTS = 5;
/** Waits between attempts: BASE_MS, 2×, 4×, 8× (about 4 s in all). */
const BASE_MS = 250;
const TIMEOUT_MS = 5_000;

export interface AlertLog {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export class AlertSender {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly config: AlertConfig,
    private readonly log: AlertLog,
    private readonly baseMs = BASE_MS,
  ) {}

  send(alert: Alert): void {
    this.log.warn({ alert: alert.kind, ...alert.details }, `alert: ${alert.summary}`);
    if (this.config.webhookUrl === undefined || this.closed) return;
    this.attempt(this.config.webhookUrl, alertBody(alert, this.config.format), alert, 1);
  }

  /** Pending retries are dropped (the log line already holds every alert). */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private attempt(url: string, body: string, alert: Alert, n: number): void {
    void this.post(url, body).then((error) => {
      if (error === undefined) return;
      if (n >= ATTEMPTS || this.closed) {
        this.log.warn({ alert: alert.kind, attempts: n, error }, 'alert webhook: delivery given up');
        return;
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.attempt(url, body, alert, n + 1);
      }, this.baseMs * 2 ** (n - 1));
      timer.unref();
      this.timers.add(timer);
    });
  }

  /** undefined on a 2xx; else what went wrong (a status or an error name, never the URL's secrets). */
  private async post(url: string, body: string): Promise<string | undefined> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'fal-gateway-alerts' };
    if (this.config.webhookSecret !== undefined) headers['x-gateway-signature'] = signature(this.config.webhookSecret, Math.floor(Date.now() / 1000), body);
    try {
      const res = await request(url, { method: 'POST', headers, body, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
      await res.body.dump();
      return res.statusCode >= 200 && res.statusCode < 300 ? undefined : `status ${res.statusCode}`;
    } catch (err) {
      return err instanceof Error ? err.name : 'error';
    }
  }
}
