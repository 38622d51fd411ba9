/**
 * What the pipeline needs from the outside world, built once by app.ts. Handlers receive this
 * instead of reaching for globals.
 */
import type { Config } from '../config.js';
import type { OperationKind } from '../domain/operation.js';
import type { InputValidation } from '../domain/validation.js';
import type { OverrunHook } from '../store/ledger-overrun.js';
import type { Stores } from '../store/stores.js';
import type { FalUpstream } from '../upstream/fal-upstream.js';
import type { CorsOrigins } from '../http/cors.js';
import type { PriceProvider } from '../services/price-source.js';
import type { KeyCache } from './key-cache.js';
import type { LedgerRetry } from './ledger-retry.js';
import type { RateLimits } from './limits.js';
import type { StreamSlots } from './stream-slots.js';
import type { OwnerDirectory } from './owner-directory.js';
import type { QueueSettler } from './queue-settler.js';
import type { StatusCoalescer } from './status-coalescer.js';

export interface PipelineContext {
  config: Config;
  /** µUSD per megapixel for new quotes (PRICE_SOURCE: config, or fal's pricing API via the database). */
  price: PriceProvider;
  stores: Stores;
  upstream: FalUpstream;
  validateInput: (body: unknown) => InputValidation;
  owners: OwnerDirectory;
  statuses: StatusCoalescer;
  settler: QueueSettler;
  /** Ledger writes after fal answered that the database refused, retried until it answers. */
  ledgerRetry: LedgerRetry;
  limits: RateLimits;
  /** Cached key lookups for authentication (pipeline/key-cache.ts). */
  keys: KeyCache;
  streams: StreamSlots;
  corsOrigins: CorsOrigins;
  /** MAC key for browser tokens (domain/tokens.ts). */
  tokenMacKey: Buffer;
  now: () => Date;
  /** Called for each settlement above its reservation (store/ledger-overrun.ts). */
  onOverrun: OverrunHook;
  /** Fired when the shutdown grace is over: fal calls still running are aborted and answered. */
  shutdownSignal: AbortSignal;
}

/** Per-request facts the one log line reports (http/request-log.ts). */
export interface RequestFacts {
  op?: OperationKind | 'admin' | 'usage' | 'token';
  door?: 'host' | 'proxy';
  keyId?: string;
  falRequestId?: string;
  /** A POST to fal was attempted: from here a store failure must not invite a retry (reply-errors.ts). */
  sentToFal?: boolean;
  /** The error code answered (errors.ts), or `validation` for a 422 (observability/request-metrics.ts). */
  errorType?: string;
  /** Set when a refusal comes from the key's policy, which answers as `forbidden` or a 422. */
  refusal?: 'policy';
}
