/**
 * The simulated fal: the only upstream this project can reach (there is no route to real fal).
 * Three loopback listeners share one state: `runUrl` plays https://fal.run and `queueUrl` plays
 * https://queue.fal.run, because the sync run and the queue submit share the path `MODEL_PATH`
 * (docs/fal-protocol.md §1.1, §2.2, §2.3); `apiUrl` plays https://api.fal.ai (the usage and pricing
 * Platform APIs, §4.1) and serves the webhook JWKS (§2.9). Tests, benchmarks and the demo use it.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MODEL_ID } from '../domain/model.js';
import { AccountBill, DEFAULT_PRICE, checkPrice, type SimPrice } from './account-bill.js';
import { handleApiRequest } from './api-routes.js';
import { CallRecorder } from './call-log.js';
import { DEFAULT_FAULTS, checkFaultPatch } from './faults.js';
import { FileStore } from './file-store.js';
import { sendJson } from './http-io.js';
import { sharedImages } from './images.js';
import { handleQueueRequest } from './queue-routes.js';
import { QueueRunner } from './queue-runner.js';
import { handleRunRequest } from './run-routes.js';
import type { SimCore, SimState } from './sim-state.js';
import type { FalSim, SimFaults, SimOptions } from './sim-types.js';
import { WebhookSigner } from './webhook-signing.js';

export type { FalSim, SimCall, SimFaults, SimOptions, SimStats } from './sim-types.js';

export async function startFalSim(opts: SimOptions): Promise<FalSim> {
  const initialFaults: SimFaults = { ...DEFAULT_FAULTS, ...validFaults(opts.faults ?? {}) };
  const host = opts.host ?? '127.0.0.1';
  const adminKey = opts.adminKey ?? 'sim-admin-key';
  if (adminKey === opts.falKey) throw new RangeError('adminKey must differ from falKey (the serving key has API scope only)');
  const checkedPrice = checkPrice(opts.price ?? DEFAULT_PRICE);
  if (typeof checkedPrice === 'string') throw new RangeError(checkedPrice);
  const initialPrice: SimPrice = checkedPrice;
  const now = opts.now ?? Date.now;
  // The bill reads the price in force when it charges (core is defined by then).
  const bill = new AccountBill(MODEL_ID, now, () => core.price);
  const core: SimCore = {
    falKey: opts.falKey,
    adminKey,
    now,
    maxMegapixelsPerImage: opts.maxMegapixelsPerImage ?? 16,
    random: opts.seedRandom ?? Math.random,
    faults: { ...initialFaults },
    recorder: new CallRecorder((id, units) => bill.add(id, units)),
    files: new FileStore(),
    images: sharedImages,
    urls: { run: '', queue: '', api: '' },
    bill,
    price: { ...initialPrice },
    signer: new WebhookSigner(opts.userId ?? 'sim-user'),
    webhookLog: [],
    syncInFlight: 0,
    lifetime: new AbortController(),
  };
  const state: SimState = Object.assign(core, { queue: new QueueRunner(core) });
  const runServer = createServer((req, res) => serve(res, handleRunRequest(state, req, res, resetSim)));
  const queueServer = createServer((req, res) => serve(res, handleQueueRequest(state, req, res)));
  const apiServer = createServer((req, res) => serve(res, Promise.resolve().then(() => handleApiRequest(state, req, res))));
  const servers = [runServer, queueServer, apiServer];
  try {
    state.urls.run = await listen(runServer, host, opts.runPort ?? 0);
    state.urls.queue = await listen(queueServer, host, opts.queuePort ?? 0);
    state.urls.api = await listen(apiServer, host, opts.apiPort ?? 0);
  } catch (err) {
    await Promise.all(servers.filter((s) => s.listening).map(closeServer));
    throw err;
  }

  function resetSim(): void {
    state.recorder.clear();
    state.queue.clear();
    state.files.clear();
    state.bill.clear();
    state.webhookLog.length = 0;
    state.faults = { ...initialFaults };
    state.price = { ...initialPrice };
  }

  return {
    runUrl: state.urls.run,
    queueUrl: state.urls.queue,
    apiUrl: state.urls.api,
    jwksUrl: `${state.urls.api}/.well-known/jwks.json`,
    setPrice: (p) => {
      const checked = checkPrice(p);
      if (typeof checked === 'string') throw new RangeError(checked);
      state.price = checked;
    },
    billTwice: (id) => {
      if (!state.bill.billTwice(id)) throw new RangeError(`request ${id} was never billed`);
    },
    webhookDeliveries: () => state.webhookLog.map((a) => ({ ...a })),
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
      await Promise.all(servers.map(closeServer));
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
