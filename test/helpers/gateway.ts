/**
 * Test harness: a simulated fal on loopback plus the gateway built from the real app builder with
 * fresh stores on an in-memory SQLite, a captured log stream and real sockets (so forwarding is
 * tested over the wire).
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { loggerOptions } from '../../src/logger.js';
import { startFalSim, type FalSim } from '../../src/sim/fal-sim.js';
import { memoryStores, type Stores } from '../../src/store/stores.js';
import { createFalUpstream } from '../../src/upstream/fal-upstream.js';

export interface TestGateway {
  app: FastifyInstance;
  url: string;
  sim: FalSim;
  config: Config;
  stores: Stores;
  falKey: string;
  adminToken: string;
  /** Every log line the gateway wrote, raw JSON text. */
  logs: string[];
  /** Creates a key through the admin API and returns its secret. */
  createKey(body?: Record<string, unknown>): Promise<{ id: string; key: string }>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  env?: Record<string, string>;
  /** Point the gateway at another upstream instead of the simulated fal's URLs. */
  upstreamUrls?: { run: string; queue: string };
  simLatencyMs?: number;
  /** Stores to use instead of fresh in-memory SQLite ones (e.g. a SQLite file or Postgres). */
  stores?: Stores;
  /** Extra simulated-fal faults at start. */
  simFaults?: Partial<import('../../src/sim/fal-sim.js').SimFaults>;
  /** The gateway's clock (default the real one), e.g. to play an instance whose clock runs ahead. */
  now?: () => Date;
  /** Smaller in-memory cache bounds, to make the caches evict. */
  cacheBounds?: import('../../src/app.js').AppDeps['cacheBounds'];
}

export async function startTestGateway(opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const falKey = `fal_test_${randomBytes(16).toString('hex')}`;
  const adminToken = `admin_${randomBytes(16).toString('hex')}`;
  const sim = await startFalSim({ falKey, faults: { latencyMs: opts.simLatencyMs ?? 5, ...opts.simFaults } });
  const config = loadConfig({
    FAL_KEY: falKey,
    FAL_RUN_URL: opts.upstreamUrls?.run ?? sim.runUrl,
    FAL_QUEUE_URL: opts.upstreamUrls?.queue ?? sim.queueUrl,
    ADMIN_TOKEN: adminToken,
    PORT: '0',
    LOG_LEVEL: 'debug',
    SHUTDOWN_GRACE_MS: '500',
    ...opts.env,
  });
  const logs: string[] = [];
  const logger = pino(loggerOptions(config.logLevel), { write: (line: string) => void logs.push(line) });
  const stores = opts.stores ?? memoryStores();
  const upstream = createFalUpstream({ runUrl: config.falRunUrl, queueUrl: config.falQueueUrl, falKey, userAgent: 'fal-gateway/test' });
  const app = await buildApp({ config, stores, upstream, logger, ...(opts.now ? { now: opts.now } : {}), ...(opts.cacheBounds ? { cacheBounds: opts.cacheBounds } : {}) });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });

  return {
    app,
    url,
    sim,
    config,
    stores,
    falKey,
    adminToken,
    logs,
    async createKey(body = { name: 'test' }) {
      const res = await fetch(`${url}/admin/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status !== 201) throw new Error(`key create failed: ${res.status} ${await res.text()}`);
      return (await res.json()) as { id: string; key: string };
    },
    async close() {
      await app.close();
      await upstream.close();
      await sim.close();
      await stores.close();
    },
  };
}

/** A minimal valid SD3.5 body. */
export function validInput(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { prompt: 'a red fox in snow', image_size: 'square', ...extra };
}
