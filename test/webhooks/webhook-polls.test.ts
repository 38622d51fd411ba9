/** When the reconciler skips a status poll for a webhook-registered request (webhooks/webhook-polls.ts). */
import { describe, expect, it } from 'vitest';
import { skipStatusPoll } from '../../src/webhooks/webhook-polls.js';

const NOW = 1_767_225_600_000;
const FALLBACK = 600_000;
const RESULT_TIMEOUT = 15_000;

describe('skipStatusPoll', () => {
  it.each([
    ['no registration: polled as before webhooks', 1_000, null, false],
    ['registered, fal has not delivered, younger than the fallback: skipped', 1_000, { receivedAt: null }, true],
    ['registered, no delivery, just under the fallback age: skipped', FALLBACK - 1, { receivedAt: null }, true],
    ['registered, no delivery, at the fallback age: polled (deliveries lost)', FALLBACK, { receivedAt: null }, false],
    ['delivered a moment ago, settlement may be running: skipped', 30_000, { receivedAt: NOW - 1_000 }, true],
    ['delivered 19.999 s ago (result timeout + 5 s not yet over): skipped', 60_000, { receivedAt: NOW - 19_999 }, true],
    ['delivered 20 s ago and still open: its settlement failed, polled', 60_000, { receivedAt: NOW - 20_000 }, false],
    ['delivered recently but past the fallback age: polled', FALLBACK + 1, { receivedAt: NOW - 10 }, false],
  ] as const)('%s', (_what, ageMs, registration, skipped) => {
    expect(skipStatusPoll({ ageMs, registration, nowMs: NOW, fallbackMs: FALLBACK, resultTimeoutMs: RESULT_TIMEOUT })).toBe(skipped);
  });

  it('WEBHOOK_POLL_FALLBACK_MS=0 never skips', () => {
    expect(skipStatusPoll({ ageMs: 0, registration: { receivedAt: null }, nowMs: NOW, fallbackMs: 0, resultTimeoutMs: RESULT_TIMEOUT })).toBe(false);
  });
});
