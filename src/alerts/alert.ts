/**
 * What an operator alert says, and its two wire forms: the gateway's JSON object, or a Slack
 * incoming-webhook `{"text": …}`. Signed as `x-gateway-signature: t=<unix>,v1=<hex>`, the HMAC-SHA256
 * of `<t>.<raw body>`: the timestamp lets a receiver refuse a replayed delivery (README, Budget alerts).
 */
import { createHmac } from 'node:crypto';

export type AlertKind = 'budget_threshold' | 'fal_auth_failed' | 'settlement_overrun' | 'reconciler_backlog' | 'reconciliation_difference' | 'webhook_relay_failed';

export interface Alert {
  kind: AlertKind;
  /** One line for a human (the Slack text, the log message). Never holds a secret. */
  summary: string;
  /** Facts for a program: scope, period, threshold, amounts, ids. */
  details: Record<string, string | number | null>;
  at: string;
}

export function alertBody(alert: Alert, format: 'json' | 'slack'): string {
  if (format === 'slack') return JSON.stringify({ text: `fal-gateway ${alert.kind}: ${alert.summary}` });
  return JSON.stringify({ type: alert.kind, summary: alert.summary, details: alert.details, at: alert.at });
}

/** The x-gateway-signature header value for `body` sent at unix second `t`. */
export function signature(secret: string, t: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${mac}`;
}
