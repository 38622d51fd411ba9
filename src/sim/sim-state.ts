/**
 * The state both sim listeners share. `faults` is replaced (never mutated) on every change so a
 * request that already read it keeps a consistent view.
 */
import type { CallRecorder } from './call-log.js';
import type { SimFaults } from './fal-sim.js';
import type { FileStore } from './file-store.js';
import type { ImageFactory } from './images.js';
import type { QueueRunner } from './queue-runner.js';

export interface SimCore {
  readonly falKey: string;
  readonly maxMegapixelsPerImage: number;
  readonly random: () => number;
  faults: SimFaults;
  readonly recorder: CallRecorder;
  readonly files: FileStore;
  readonly images: ImageFactory;
  /** Filled in once both listeners are bound. */
  readonly urls: { run: string; queue: string };
  /** Sync calls accepted and not yet closed; compared with faults.syncConcurrency. */
  syncInFlight: number;
  /** Aborted by close(): ends latency sleeps and webhook posts. */
  readonly lifetime: AbortController;
}

export interface SimState extends SimCore {
  readonly queue: QueueRunner;
}
