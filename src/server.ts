/**
 * The process: read config, open the stores, build the app, listen (http, or https from
 * TLS_CERT_FILE/TLS_KEY_FILE, re-read on SIGHUP), and shut down gracefully on SIGTERM/SIGINT:
 * readiness 503 first (drain), stop accepting, let in-flight requests finish within the grace,
 * answer what is left (http/graceful-close.ts), then close fal's pools and the stores, last.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Server as HttpsServer } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import closeWithGrace from 'close-with-grace';
import { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { ConfigError, envFilePath, loadConfig, type Config } from './config.js';
import { ANSWER_WINDOW_MS } from './http/graceful-close.js';
import { loggerOptions } from './logger.js';
import { startupFacts } from './observability/startup-facts.js';
import { PriceUnitError } from './services/price-source.js';
import { openStores, type Stores } from './store/stores.js';
import { createFalUpstream } from './upstream/fal-upstream.js';
import { GATEWAY_USER_AGENT } from './version.js';

/** Bounds on the close steps after the grace: none of them may hold the exit for RUN_TIMEOUT_MS. */
const SETTLE_WAIT_MS = 5_000;
const UPSTREAM_CLOSE_MS = 2_000;

export interface RunningGateway {
  app: FastifyInstance;
  url: string;
  stores: Stores;
  /** Re-reads TLS_CERT_FILE/TLS_KEY_FILE into the listening server (new handshakes use them). */
  reloadTls(): void;
  close(): Promise<void>;
}

function readTls(config: Config): { cert: Buffer; key: Buffer } | undefined {
  return config.tls && { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) };
}

export async function startGateway(config: Config, logger: Logger, given?: Stores): Promise<RunningGateway> {
  if (config.falKey === undefined) throw new ConfigError(['FAL_KEY is required']);
  const https = readTls(config);
  const stores =
    given ?? (await openStores(config.databaseUrl, { ...config.database, onIdleError: (err) => logger.error({ err }, 'postgres idle connection error') }));
  const upstream = createFalUpstream({
    runUrl: config.falRunUrl,
    queueUrl: config.falQueueUrl,
    falKey: config.falKey,
    userAgent: GATEWAY_USER_AGENT,
    streamConnections: config.streamConnections,
  });
  if (config.publicUrl === undefined && !/^(127\.|localhost$|::1$)/.test(config.host)) {
    logger.warn('PUBLIC_URL is not set: queue URLs are built from each request\'s Host header; set PUBLIC_URL behind a load balancer');
  }
  // Rate-limit counters only (pipeline/rate-counters.ts): while Redis is unreachable a command
  // must fail at once (no offline queue, bounded command time) so the per-instance fallback
  // answers fast; it keeps reconnecting in the background. lazyConnect: the counters attach their
  // listeners first, then connect.
  const redis =
    config.redisUrl === undefined
      ? undefined
      : new Redis(config.redisUrl, {
          lazyConnect: true,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          connectTimeout: 2_000,
          commandTimeout: 1_000,
          retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
        });
  const app = await buildApp({ config, stores, upstream, logger, redis, ...(https ? { https } : {}) });
  try {
    // PRICE_SOURCE=fal: fal's price before the first quote; a unit quotes cannot use stops the start.
    await app.price.start();
  } catch (err) {
    await app.close();
    await upstream.close();
    redis?.disconnect();
    if (!given) await stores.close();
    throw err instanceof PriceUnitError ? new ConfigError([err.message]) : err;
  }
  const url = await app.listen({ host: config.host, port: config.port });
  app.reconciler.start();
  if (app.reconciliation.scheduled) app.reconciliation.job.start();
  let closed: Promise<void> | undefined;
  return {
    app,
    url,
    stores,
    reloadTls() {
      const fresh = readTls(config);
      if (fresh && app.server instanceof HttpsServer) app.server.setSecureContext(fresh);
    },
    close() {
      closed ??= (async () => {
        // Readiness answers 503 while this instance still serves, so balancers stop routing here.
        app.graceful.drain();
        if (config.shutdownDrainMs > 0) await sleep(config.shutdownDrainMs);
        // Resolves when every connection has ended: finished, answered after the grace, or cut.
        await app.close();
        // Handlers answered before their sockets closed; this bounds the rare one that did not.
        await app.graceful.settled(SETTLE_WAIT_MS);
        // Every client call is over; background calls (queue settlement) are left to the
        // reconciler of another instance or the next start, so the exit never waits on fal.
        await Promise.race([upstream.close(), sleep(UPSTREAM_CLOSE_MS)]);
        await stores.close();
        redis?.disconnect();
      })();
      return closed;
    },
  };
}

/** The longest a graceful close can take before close-with-grace exits the process anyway. */
export function closeDeadlineMs(config: Config): number {
  return config.shutdownDrainMs + config.shutdownGraceMs + ANSWER_WINDOW_MS + SETTLE_WAIT_MS + UPSTREAM_CLOSE_MS + 5_000;
}

export function handleSignals(gateway: RunningGateway, config: Config, logger: Logger): void {
  // close-with-grace: one graceful close on SIGTERM/SIGINT (or a crash), exit at once on a second
  // signal, and a hard deadline. SIGHUP is ours: it reloads the certificate instead.
  closeWithGrace(
    {
      delay: closeDeadlineMs(config),
      skip: ['SIGHUP'],
      logger: { error: (msg: unknown) => logger.error({ detail: msg instanceof Error ? msg.message : String(msg) }, 'shutdown: forced exit') },
    },
    async ({ signal, err }) => {
      if (err) logger.error({ err }, 'shutting down after an uncaught error');
      else logger.info({ signal }, 'shutting down');
      await gateway.close();
      logger.info('shutdown complete');
    },
  );
  process.on('SIGHUP', () => {
    try {
      gateway.reloadTls();
      logger.info({ tls: config.tls !== undefined }, 'SIGHUP: TLS certificate reloaded');
    } catch (err) {
      // Keep serving with the certificate already loaded rather than exit on a bad file.
      logger.error({ err }, 'SIGHUP: TLS reload failed; still using the previous certificate');
    }
  });
}

/**
 * Loads the env file into process.env (only here: tests build the app from explicit config). A
 * missing `.env` is normal; a missing file named by ENV_FILE is a mistake worth stopping for.
 */
export function loadEnvFile(): string | undefined {
  const file = envFilePath(process.env);
  if (file === undefined) return undefined;
  if (!existsSync(file.path)) {
    if (file.explicit) throw new ConfigError([`ENV_FILE names ${file.path}, which does not exist`]);
    return undefined;
  }
  process.loadEnvFile(file.path);
  return file.path;
}

export async function main(): Promise<void> {
  let config: Config;
  let envFile: string | undefined;
  try {
    envFile = loadEnvFile();
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  // Asynchronous writes: a request's line is handed to libuv instead of a write(2) on the event
  // loop (the submit profile had sync log writes at 4 % of the gateway's CPU). Lines still pending
  // are written at exit (pino flushes its destination on 'exit'); a SIGKILL can lose the last few.
  // maxLength: if stdout stops draining (a full pipe, a stuck log driver), lines past 16 MiB of
  // backlog are dropped instead of growing the heap until the process dies.
  const logger = pino(loggerOptions(config.logLevel), pino.destination({ fd: 1, sync: false, maxLength: 16 * 1024 * 1024 }));
  const gateway = await startGateway(config, logger);
  // One line with what an operator checks first: where state lives, Redis, admin mode.
  logger.info({ url: gateway.url, ...startupFacts(config), env_file: envFile ?? 'none' }, 'fal-gateway listening');
  handleSignals(gateway, config, logger);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    process.stderr.write(`fal-gateway failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
