/**
 * The webhook relay's durable state (webhooks/): one row per queue request the gateway registered
 * its own webhook for, and the gateway's signing key. A row's life: `awaiting` (registered at
 * submit, before fal is called) → `pending` (fal's verified delivery stored, body byte for byte) →
 * `delivered`, or `failed` after the last attempt. A row without a URL (WEBHOOK_SETTLEMENT, the
 * caller asked for no webhook) has nothing to relay: fal's delivery takes it from `awaiting`
 * straight to `delivered`, body not kept. Either kind tells the reconciler that fal will deliver. Sending is claimed with a lease, so of several instances exactly
 * one sends a due row, and a row whose sender died is sent again once its lease runs out.
 * Times are epoch milliseconds.
 */

export type RelayState = 'awaiting' | 'pending' | 'delivered' | 'failed';

export interface RelayRow {
  ledgerId: string;
  keyId: string;
  /** The caller's fal_webhook, canonical form (domain/webhook.ts); null for settlement only. */
  url: string | null;
  falRequestId: string | null;
  /** fal's delivery body, exactly as received; null while `awaiting`. */
  body: Buffer | null;
  state: RelayState;
  /** Send attempts made so far. */
  attempts: number;
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  receivedAt: number | null;
  finishedAt: number | null;
}

export interface NewRelay {
  ledgerId: string;
  keyId: string;
  url: string | null;
  createdAt: number;
}

/** How one send attempt ended: delivered, to be retried at `nextAttemptAt`, or given up. */
export type RelayOutcome =
  | { kind: 'delivered'; status: number; at: number }
  | { kind: 'retry'; status: number | null; error: string; nextAttemptAt: number }
  | { kind: 'failed'; status: number | null; error: string; at: number };

export interface WebhookStore {
  register(relay: NewRelay): Promise<void>;
  /**
   * fal's delivery for the request of `ledgerId` arrived: `awaiting` → `pending`, due at once; a
   * row without a URL goes to `delivered` instead, keeping no body. True only when a relay was
   * queued: false for a row without a URL, no such row, or one that already had a delivery (fal
   * retries and duplicates; nothing changes then).
   */
  received(ledgerId: string, falRequestId: string, body: Buffer, at: number): Promise<boolean>;
  /**
   * Of `ledgerIds`, the rows registered with the gateway's webhook, with when fal's delivery
   * arrived (null: not yet). Ids without a registration are absent from the map.
   */
  registrations(ledgerIds: readonly string[]): Promise<Map<string, { receivedAt: number | null }>>;
  /** Leases up to `limit` due `pending` rows to `owner` until `now + leaseMs`; each row goes to one owner. */
  claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<RelayRow[]>;
  /** Records an attempt (attempts + 1) and ends the lease; false when `owner` no longer holds it. */
  finish(ledgerId: string, owner: string, outcome: RelayOutcome): Promise<boolean>;
  get(ledgerId: string): Promise<RelayRow | null>;
  /**
   * Deletes finished rows (delivered, failed) finished before `before`, and rows still `awaiting`
   * created before it (fal refused the submit, or never delivered). Returns how many went.
   */
  prune(before: number): Promise<number>;
  /**
   * The gateway's signing key (stored form, webhooks/signing-key.ts): the one already stored, or
   * `candidate` if none was. Every instance gets the same key, whichever stored it first.
   */
  signingKey(candidate: string, at: number): Promise<string>;
}
