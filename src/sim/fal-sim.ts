/**
 * The simulated fal: the only upstream this project can reach (there is no route to real fal).
 * Two loopback listeners share one state: `runUrl` plays https://fal.run and `queueUrl` plays
 * https://queue.fal.run, because the sync run and the queue submit share the path `MODEL_PATH`
 * (docs/fal-protocol.md §1.1, §2.2, §2.3). Tests, benchmarks and the demo all use it.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallRecorder } from './call-log.js';
import { DEFAULT_FAULTS, checkFaultPatch } from './faults.js';
import { FileStore } from './file-store.js';
import { sendJson } from './http-io.js';
import { sharedImages } from './images.js';
import { handleQueueRequest } from './queue-routes.js';
import { QueueRunner } from './queue-runner.js';
import { handleRunRequest } from './run-routes.js';
import type { SimCore, SimState } from './sim-state.js';

export interface SimFaults {
  /** Generation time per request in ms (sync: before responding; queue: IN_PROGRESS duration). */
  latencyMs: number;
  /** ± uniform random added to latencyMs. */
  jitterMs: number;
  /** 0..1 share of calls that fail with runner_server_error (sync 500; queue COMPLETED + error). */
  errorRate: number;
  /** 0..1 share of sync calls answered 429 concurrent_requests_limit. */
  rate429: number;
  /** 0..1 share of run/submit/result calls accepted but never answered. */
  hangRate: number;
  /** 0..1 share of run/submit/result calls cut off mid-body (socket destroyed). */
  resetRate: number;
  /** 0..1 share of run/submit calls never read nor answered (fal never saw them: no job, no bill). */
  hangBeforeBodyRate: number;
  /** Queue jobs IN_PROGRESS at once (fal new accounts: 2). */
  queueConcurrency: number;
  /** Sync calls in flight before answering 429 concurrent_requests_limit. */
  syncConcurrency: number;
}

export interface SimOptions {
  falKey: string;
  host?: string;
  runPort?: number;
  queuePort?: number;
  faults?: Partial<SimFaults>;
  /** Per-image cap after auto_fix; above it the sim answers 422 image_too_large. Default 16. */
  maxMegapixelsPerImage?: number;
  /** Source of randomness for faults, jitter and omitted seeds. Default Math.random. */
  seedRandom?: () => number;
}

export interface SimCall {
  op: 'run' | 'submit' | 'status' | 'stream' | 'result' | 'cancel' | 'file' | 'other';
  method: string;
  /** Path with its query string, e.g. `/fal-ai/stable-diffusion-v35-medium?fal_webhook=...`. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  requestId?: string;
}

export interface SimStats {
  calls: Record<SimCall['op'], number>;
  billedUnits: number;
  billedByRequest: Record<string, number>;
}

export interface FalSim {
  /** Plays https://fal.run, e.g. http://127.0.0.1:40001. Also serves `/files/...` and `/_sim/...`. */
  runUrl: string;
  /** Plays https://queue.fal.run, e.g. http://127.0.0.1:40002. */
  queueUrl: string;
  /** A snapshot copy. */
  stats(): SimStats;
  /** Every request received (newest 10,000), oldest first; `/_sim/*` control calls are not logged. */
  calls(): SimCall[];
  /** Merges into the current faults; throws RangeError on an unknown key or out-of-range value. */
  setFaults(f: Partial<SimFaults>): void;
  /** Clears stats, calls, jobs and files; restores the faults given at start (or the defaults). */
  reset(): void;
  /** Closes both listeners and ends hanging sockets, SSE streams, timers and webhook posts. */
  close(): Promise<void>;
}

export async function startFalSim(opts: SimOptions): Promise<FalSim> {
  const initialFaults: SimFaults = { ...DEFAULT_FAULTS, ...validFaults(opts.faults ?? {}) };
  const host = opts.host ?? '127.0.0.1';
  const core: SimCore = {
    falKey: opts.falKey,
    maxMegapixelsPerImage: opts.maxMegapixelsPerImage ?? 16,
    random: opts.seedRandom ?? Math.random,
    faults: { ...initialFaults },
    recorder: new CallRecorder(),
    files: new FileStore(),
    images: sharedImages,
    urls: { run: '', queue: '' },
    syncInFlight: 0,
    lifetime: new AbortController(),
  };
  const state: SimState = Object.assign(core, { queue: new QueueRunner(core) });
  const runServer = createServer((req, res) => serve(res, handleRunRequest(state, req, res, resetSim)));
  const queueServer = createServer((req, res) => serve(res, handleQueueRequest(state, req, res)));
  state.urls.run = await listen(runServer, host, opts.runPort ?? 0);
  try {
    state.urls.queue = await listen(queueServer, host, opts.queuePort ?? 0);
  } catch (err) {
    await closeServer(runServer);
    throw err;
  }

  function resetSim(): void {
    state.recorder.clear();
    state.queue.clear();
    state.files.clear();
    state.faults = { ...initialFaults };
  }

  return {
    runUrl: state.urls.run,
    queueUrl: state.urls.queue,
    stats: () => state.recorder.stats(),
    calls: () => state.recorder.calls(),
    setFaults: (f) => {
      state.faults = { ...state.faults, ...validFaults(f) };
      state.queue.pump();
    },
    reset: resetSim,
    close: async () => {
      state.lifetime.abort();
      state.queue.clear();
      await Promise.all([closeServer(runServer), closeServer(queueServer)]);
    },
  };
}

function validFaults(f: Partial<SimFaults>): Partial<SimFaults> {
  const checked = checkFaultPatch(f);
  if (!checked.ok) throw new RangeError(checked.error);
  return checked.patch;
}

/** Unexpected handler failures become a 500 without details; the sim has no logger to leak to. */
function serve(res: ServerResponse, work: Promise<void>): void {
  work.catch(() => {
    if (!res.headersSent) sendJson(res, 500, { detail: 'fal-sim internal error', error_type: 'internal_error' });
    else res.destroy();
  });
}

function listen(server: Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address() as AddressInfo;
      const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve(`http://${shown}:${addr.port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
