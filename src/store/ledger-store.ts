/**
 * Storage contract for the money ledger: one row per request that might cost money, and the
 * budget counters (domain/budgets.ts) that make reservations atomic. One SQL adapter
 * (sql/sql-ledger-store.ts) for SQLite and Postgres; one contract suite runs against both.
 *
 * Life of a row: `reserve` (state `reserved`, counters' `reserved` += quote, refused atomically if
 * any limited counter would exceed its limit) → optionally `attachFalRequestId` → exactly one of
 * `settle` (state `settled`; counters: reserved −= quote, spent += amount) or `release` (state
 * `released`; reserved −= quote). Settle and release apply only to a row still `reserved`, so a
 * second settle (a retried result fetch, the reconciler racing a live poll) changes nothing.
 *
 * A request made through a browser token is also counted in the token's two lifetime counters
 * (domain/budgets.ts tokenCounters): its spend, moved like the others, and its image count
 * (unit `images`), charged the request's `images` on reserve and moved reserved → spent whole on
 * settle (the request's count is what the token consumed), or returned on release.
 */
import type { BudgetLimits, BudgetPeriod, CounterRef } from '../domain/budgets.js';
import type { KeyRecord } from './key-store.js';

export type LedgerOperation = 'run' | 'submit';
export type LedgerState = 'reserved' | 'settled' | 'released';
/** Where a settled amount came from: fal's x-fal-billable-units, the returned image sizes, or the quote. */
export type SettleSource = 'billable_units' | 'image_sizes' | 'quote';
/**
 * How far a row's fal call got: `reserved` (fal not called: the request certainly never left) →
 * `sent` (marked just before the call, so fal may have it). Recovery releases `reserved` rows and
 * charges `sent` ones it cannot follow (see pipeline/reconciler.ts).
 */
export type UpstreamPhase = 'reserved' | 'sent';

export interface LedgerRow {
  /** The gateway request id that created the row. */
  id: string;
  keyId: string;
  team: string | null;
  operation: LedgerOperation;
  falRequestId: string | null;
  idempotencyKey: string | null;
  bodyHash: string | null;
  state: LedgerState;
  /** e.g. ok, failed, cancelled, refused_by_fal, unknown, recovered (free text, machine-readable). */
  outcome: string | null;
  quotedMicro: number;
  settledMicro: number | null;
  requestedMegapixels: number;
  billedUnits: number | null;
  settleSource: SettleSource | null;
  /** False when the amount was not confirmed by fal (settled at the quote). */
  verified: boolean | null;
  httpStatus: number | null;
  endUser: string | null;
  /** The browser token the request came through (its counters were charged too), or null. */
  tokenId: string | null;
  /** Images the request asked for (num_images): what it charged a token's image counter. */
  images: number;
  createdAt: string;
  settledAt: string | null;
  upstreamPhase: UpstreamPhase;
  /**
   * Set with `sent`: when the instance that sent the call stops waiting for fal (its own timeout
   * plus a grace). Until then the row belongs to that instance; after it, to recovery.
   */
  deadlineAt: string | null;
  /**
   * µUSD per megapixel (fal's unit) the row was quoted at and settles at: a price change while it
   * is in flight does not reach it. Null on rows reserved before migration 17 (settled at the
   * instance's current price).
   */
  unitPriceMicro: number | null;
  /**
   * Derived, never stored: settled above its reservation (settledMicro > quotedMicro). The
   * reservation is meant to be an upper bound of fal's bill, so an overrun means a pricing rule
   * the gateway does not know about; the budget may then be exceeded by the difference.
   */
  overrun: boolean;
}

/**
 * The limits a reservation with `freshLimits` read inside its own transaction: the key's row and its
 * team's budgets (null when the team has no record). Returned with the row so the caller can
 * re-check what it checked from a cached key (its policy) against the row that was in force.
 */
export interface FreshLimits {
  key: KeyRecord;
  team: BudgetLimits;
}

export interface ReserveInput {
  id: string;
  keyId: string;
  team: string | null;
  operation: LedgerOperation;
  quotedMicro: number;
  requestedMegapixels: number;
  /**
   * The counters to check and charge, with the limits in force now: domain/budgets.ts
   * `countersFor(keyId, …, team, …, at, token)`, the token's counters included when `tokenId` is set.
   */
  counters: CounterRef[];
  idempotencyKey: string | null;
  bodyHash: string | null;
  endUser: string | null;
  /** The browser token the request came through, or null for a request made with the key itself. */
  tokenId: string | null;
  /** The request's num_images (an integer ≥ 1), charged to a token's image counter. */
  images: number;
  /** µUSD per megapixel this row is priced at (LedgerRow.unitPriceMicro); omitted = null. */
  unitPriceMicro?: number | null;
  at: string;
  /**
   * Caps on generations in flight (rows still `reserved`), checked in the same atomic step as the
   * budgets: per key (`max_concurrency`) and across the gateway (GLOBAL_MAX_CONCURRENCY).
   */
  inFlightLimits?: { key: number | null; global: number | null };
  /**
   * Read the limits from the database inside the reserve transaction instead of trusting the
   * caller's: the key row's budgets, max_concurrency and revoked state, and the team row's budgets
   * (ledger-rules.ts applyFreshLimits). The token's caps and the global cap stay the caller's. A key
   * that is revoked or missing is refused (`revoked`). Without it, limits are exactly as given.
   */
  freshLimits?: boolean;
}

export type ReserveResult =
  | { ok: true; row: LedgerRow; /** Set when the input asked for `freshLimits`. */ fresh?: FreshLimits }
  /**
   * A limited counter would be exceeded. `remaining` = max(0, limit − spent − reserved), both in
   * `unit`: micro-USD, or images for a token's max_images.
   * A token's counters are lifetime counters: `period` is `lifetime` for `scopeKind` `token`.
   */
  | {
      ok: false;
      reason: 'budget';
      scopeKind: 'key' | 'team' | 'token';
      period: BudgetPeriod;
      unit: 'micro_usd' | 'images';
      limit: number;
      remaining: number;
    }
  /** The key (or the whole gateway) already has `limit` generations in flight. */
  | { ok: false; reason: 'concurrency'; scope: 'key' | 'global'; limit: number }
  /**
   * (keyId, idempotencyKey) already has a row: nothing was reserved. Except a row released before
   * reaching fal (`not_sent`, `refused_policy`) with the same body hash: the reservation takes the
   * key over (the old row keeps its history without the key) and goes on as a new attempt.
   */
  | { ok: false; reason: 'duplicate'; existing: LedgerRow }
  /** `freshLimits`: the key is revoked (or gone) in the database, whatever a cache still says. */
  | { ok: false; reason: 'revoked' }
  /** `freshLimits`: the key row's `expires_at` is at or before the reservation's `at`. */
  | { ok: false; reason: 'expired'; expiresAt: string };

export interface SettleInput {
  amountMicro: number;
  /** fal's request id when the row has none yet (a sync run's x-fal-request-id): attached by the same write. */
  falRequestId?: string | null;
  billedUnits: number | null;
  source: SettleSource;
  verified: boolean;
  outcome: string;
  httpStatus: number | null;
  at: string;
}

export interface ReleaseInput {
  outcome: string;
  /** As SettleInput.falRequestId. */
  falRequestId?: string | null;
  httpStatus: number | null;
  at: string;
  /** Release only if the row is still in phase `reserved` (recovery must never release a call that left). */
  onlyUnsent?: boolean;
}

/** Totals of one counter: micro-USD, or images for a token's image counter. */
export interface CounterTotals {
  spentMicro: number;
  reservedMicro: number;
}

export interface UsageQuery {
  keyId?: string;
  team?: string;
  /** Inclusive ISO lower bound on created_at. */
  from?: string;
  /** Exclusive ISO upper bound on created_at. */
  to?: string;
  /** Only rows with this end user. */
  endUser?: string;
}

/** Totals of a usage group. */
export interface UsageTotals {
  /** Rows settled or still reserved; released rows (nothing billed) count nowhere in these totals. */
  requests: number;
  /** Settled micro-USD. */
  spentMicro: number;
  /** Still reserved micro-USD. */
  reservedMicro: number;
  /** Σ requested megapixels of rows that were settled. */
  megapixels: number;
  /** Σ billed units fal reported. */
  billedUnits: number;
  /** Settled rows whose settlement exceeded their reservation (LedgerRow.overrun). */
  overruns: number;
}

/** A dimension of a usage grid: UTC day or hour of created_at, key id, team (`''` for none), end user (`''` for none). */
export type UsageDimension = 'day' | 'hour' | 'key' | 'team' | 'end_user';

export interface UsageGridQuery extends UsageQuery {
  /** Zero, one or two dimensions; no dimension gives one `all` row. */
  dimensions: UsageDimension[];
}

/** Rows by the HTTP status the client was answered with (null while in flight: in no class). */
export interface HttpClassCounts {
  s2xx: number;
  s402: number;
  s429: number;
  /** 4xx other than 402 and 429. */
  s4xx: number;
  s5xx: number;
}

/**
 * A usage row of a grid: the UsageTotals (released rows excluded from them) plus counts that
 * include released rows, since a failure is released: `released` and the HTTP status classes.
 */
export interface UsageGridRow extends UsageTotals {
  /** One value per dimension, in the query's order: a day `2026-11-26`, an hour `2026-11-26T10`, an id or name. */
  groups: string[];
  /** Σ images (num_images) of settled rows. */
  images: number;
  released: number;
  http: HttpClassCounts;
}

/** Flags of a ledger row (requests report): settled at the quote unconfirmed, by recovery, above its quote, still reserved. */
export type LedgerFlag = 'unverified' | 'recovered' | 'overrun' | 'open';

/** A page of ledger rows, newest first: `(created_at, id)` descending, strictly after `after`. */
export interface LedgerPageQuery {
  keyId?: string;
  team?: string;
  state?: LedgerState;
  outcome?: string;
  flag?: LedgerFlag;
  falRequestId?: string;
  /** Inclusive ISO lower bound on created_at. */
  from?: string;
  /** Exclusive ISO upper bound on created_at. */
  to?: string;
  /** The last row of the previous page: this page holds only rows ordered after it. */
  after?: { createdAt: string; id: string };
  limit: number;
}

export interface LedgerStore {
  reserve(input: ReserveInput): Promise<ReserveResult>;
  /**
   * Attaches fal's request id to a row (a queue submit, once fal answered), in one write. A queue
   * row with its fal id is also the request's ownership record (ownership-store.ts): the client's
   * first poll finds its owner. Attaching the id the row already has is a no-op; another id, or an
   * id another row has, is refused (`falIdConflict`), and so is an unknown row.
   */
  attachFalRequestId(id: string, falRequestId: string): Promise<void>;
  /**
   * Phase `reserved` → `sent` with the row's deadline (ISO), written before the fal call leaves.
   * False when the row is no longer `reserved` (recovery released it): the call must not be made.
   */
  markSent(id: string, deadlineAt: string): Promise<boolean>;
  /** True if this call settled the row; false if it was already settled or released. */
  settle(id: string, input: SettleInput): Promise<boolean>;
  release(id: string, input: ReleaseInput): Promise<boolean>;
  get(id: string): Promise<LedgerRow | null>;
  findByFalRequestId(falRequestId: string): Promise<LedgerRow | null>;
  findByIdempotencyKey(keyId: string, idempotencyKey: string): Promise<LedgerRow | null>;
  /** Rows still `reserved`, oldest first (start-up recovery and the reconciler). */
  pending(limit: number): Promise<LedgerRow[]>;
  /** Current totals of counters (missing counters read as zero), in the order given. */
  counterTotals(refs: Pick<CounterRef, 'scope' | 'bucket'>[]): Promise<CounterTotals[]>;
  /** Usage by up to two dimensions (UsageGridRow); groups in byte order of their values, dimension by dimension. */
  usageGrid(query: UsageGridQuery): Promise<UsageGridRow[]>;
  /**
   * The newest created_at of each key's rows (any state): of every key in the key store, or of
   * `keyId` only; keys without rows are absent. (Every key id in the ledger has its key row: a hard
   * delete is refused while rows exist.)
   */
  lastUsed(keyId?: string): Promise<Map<string, string>>;
  /** Ledger rows newest first (LedgerPageQuery); `limit` at most 1000. */
  page(query: LedgerPageQuery): Promise<LedgerRow[]>;
}

/** The first outcome of an idempotent request, replayed for a repeat with the same key and body. */
export interface StoredResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface IdempotencyStore {
  saveResponse(ledgerId: string, response: StoredResponse, at: string): Promise<void>;
  getResponse(ledgerId: string): Promise<StoredResponse | null>;
  /** Forgets idempotency keys older than `before` (ISO): their rows stay, the key no longer dedupes. */
  expire(before: string): Promise<number>;
}
