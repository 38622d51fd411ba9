/**
 * The state the sim listeners share. `faults` is replaced (never mutated) on every change so a
 * request that already read it keeps a consistent view.
 */
import type { AccountBill, SimPrice } from './account-bill.js';
import type { CallRecorder } from './call-log.js';
import type { SimFaults } from './fal-sim.js';
import type { FileStore } from './file-store.js';
import type { ImageFactory } from './images.js';
import type { QueueRunner } from './queue-runner.js';
import type { WebhookAttempt } from './webhook.js';
import type { WebhookSigner } from './webhook-signing.js';

export interface SimCore {
  readonly falKey: string;
  /** ADMIN-scope key: the only one the usage API accepts (docs/fal-protocol.md §2.1, §4.1). */
  readonly adminKey: string;
  /** The sim's clock (epoch ms): bill timestamps, usage buckets, webhook timestamps. */
  readonly now: () => number;
  readonly maxMegapixelsPerImage: number;
  readonly random: () => number;
  faults: SimFaults;
  readonly recorder: CallRecorder;
  readonly files: FileStore;
  readonly images: ImageFactory;
  /** Filled in once the listeners are bound. */
  readonly urls: { run: string; queue: string; api: string };
  /** What fal's usage API reports (the account's side of the bill). */
  readonly bill: AccountBill;
  /** The account's price for the endpoint; replaced by the control API. */
  price: SimPrice;
  readonly signer: WebhookSigner;
  /** Every webhook POST attempt, oldest first (newest 10,000). */
  readonly webhookLog: WebhookAttempt[];
  /** Sync calls accepted and not yet closed; compared with faults.syncConcurrency. */
  syncInFlight: number;
  /** Aborted by close(): ends latency sleeps and webhook posts. */
  readonly lifetime: AbortController;
}

export interface SimState extends SimCore {
  readonly queue: QueueRunner;
}
