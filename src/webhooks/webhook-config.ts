/**
 * The webhook settings of config.ts (README, Webhooks), parsed with config.ts's own readers so
 * every problem is reported with the others at start-up.
 */
import { signingKeyProblem } from './signing-key.js';

export interface WebhookConfig {
  /** WEBHOOK_SETTLEMENT: register the gateway's endpoint with fal on every submit, not only on a caller's fal_webhook. */
  settlement: boolean;
  /** Origin (and path prefix) fal reaches the gateway at: WEBHOOK_PUBLIC_URL, else PUBLIC_URL; unset or `off` = no relay. */
  publicUrl: string | undefined;
  /** fal's webhook public keys (JWKS). */
  falJwksUrl: string;
  /** WEBHOOK_SIGNING_KEY (Ed25519, PKCS#8 PEM or base64 32-byte seed); unset = one generated and kept in the database. */
  signingKey: string | undefined;
  /** Relay attempts before a delivery is marked failed, and the first retry wait (doubling) in ms. */
  relayMaxAttempts: number;
  relayBackoffMs: number;
  /**
   * WEBHOOK_POLL_FALLBACK_MS: how old a request registered with the gateway's webhook gets before
   * the reconciler polls its status anyway. fal retries a delivery over about 2 h, so the webhook
   * normally arrives; the poll is the fallback for deliveries that are lost (the public URL
   * unreachable, every retry refused).
   */
  pollFallbackMs: number;
  /** Test-only (NODE_ENV=test): relay to, and accept fal_webhook of, plain http loopback URLs. */
  allowLoopbackHttp: boolean;
}

/**
 * Webhook settings. Settlement needs an address fal can reach, so WEBHOOK_SETTLEMENT=true without
 * WEBHOOK_PUBLIC_URL or PUBLIC_URL is refused; without one a caller's fal_webhook goes to fal
 * unchanged, as before the relay existed (README, Webhooks).
 */
export function webhookConfig(
  str: (name: string) => string | undefined,
  url: (name: string, fallback: string | undefined) => string | undefined,
  int: (name: string, fallback: number, min: number, max: number) => number,
  env: Record<string, string | undefined>,
  problems: string[],
): WebhookConfig {
  const flag = (name: string): boolean => {
    const raw = str(name);
    if (raw === undefined || raw === 'false') return false;
    if (raw === 'true') return true;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return false;
  };
  const settlement = flag('WEBHOOK_SETTLEMENT');
  // `off`: keep a PUBLIC_URL for status URLs but pass callers' fal_webhook to fal unchanged.
  const publicUrl = str('WEBHOOK_PUBLIC_URL') === 'off' ? undefined : url('WEBHOOK_PUBLIC_URL', str('PUBLIC_URL'));
  if (settlement && publicUrl === undefined) {
    problems.push('WEBHOOK_SETTLEMENT=true needs WEBHOOK_PUBLIC_URL (or PUBLIC_URL): the address fal delivers webhooks to');
  }
  const allowLoopbackHttp = flag('WEBHOOK_ALLOW_LOOPBACK_HTTP');
  if (allowLoopbackHttp && env.NODE_ENV !== 'test') problems.push('WEBHOOK_ALLOW_LOOPBACK_HTTP is for tests only (it needs NODE_ENV=test)');
  const signingKey = str('WEBHOOK_SIGNING_KEY');
  if (signingKey !== undefined && signingKeyProblem(signingKey) !== null) {
    problems.push('WEBHOOK_SIGNING_KEY must be an Ed25519 private key: PKCS#8 PEM, or the base64 of its 32-byte seed');
  }
  return {
    settlement,
    publicUrl,
    falJwksUrl: url('FAL_WEBHOOK_JWKS_URL', 'https://rest.fal.ai/.well-known/jwks.json') ?? 'https://rest.fal.ai/.well-known/jwks.json',
    signingKey,
    relayMaxAttempts: int('WEBHOOK_RELAY_MAX_ATTEMPTS', 10, 1, 100),
    relayBackoffMs: int('WEBHOOK_RELAY_BACKOFF_MS', 10_000, 10, 3_600_000),
    pollFallbackMs: int('WEBHOOK_POLL_FALLBACK_MS', 10 * 60_000, 0, 24 * 60 * 60_000),
    allowLoopbackHttp,
  };
}
