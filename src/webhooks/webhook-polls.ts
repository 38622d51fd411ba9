/**
 * When the reconciler may leave a queue request's status unpolled because fal will deliver its
 * outcome to the gateway's webhook (a relay registration exists, store/webhook-store.ts). Polling
 * every open row each pass would make webhook settlement save nothing. fal retries a delivery
 * over about 2 h (docs/fal-protocol.md §2.4), so the poll is only the fallback for deliveries
 * that are lost: it resumes once the request is WEBHOOK_POLL_FALLBACK_MS old. Pure, so it is
 * table-tested (test/webhooks/webhook-polls.test.ts).
 */

/** A settlement started by a delivery: one ledger read, one result fetch, one write. */
const SETTLE_WRITE_GRACE_MS = 5_000;

export interface PollFacts {
  /** Milliseconds since the ledger row was reserved. */
  ageMs: number;
  /** The row's registration with the gateway's webhook, or null when it has none. */
  registration: { receivedAt: number | null } | null;
  nowMs: number;
  fallbackMs: number;
  /** POLL_TIMEOUT_MS: how long the settlement's result fetch may take. */
  resultTimeoutMs: number;
}

/**
 * True when the status poll is skipped this pass: the row is registered, younger than the
 * fallback age, and either fal has not delivered yet or its delivery is recent enough that the
 * settlement it started may still be running. A delivery that arrived longer ago while the row is
 * still open means that settlement failed (a result fetch fal did not answer): polled as before.
 */
export function skipStatusPoll(f: PollFacts): boolean {
  if (f.registration === null || f.ageMs >= f.fallbackMs) return false;
  const { receivedAt } = f.registration;
  return receivedAt === null || f.nowMs - receivedAt < f.resultTimeoutMs + SETTLE_WRITE_GRACE_MS;
}
