/**
 * The process: read config, open the stores, build the app, listen, and shut down gracefully on
 * SIGTERM/SIGINT (stop accepting, let in-flight requests finish, close stores last).
 */
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { loggerOptions } from './logger.js';
import { openStores, type Stores } from './store/stores.js';
import { createFalUpstream } from './upstream/fal-upstream.js';
import { GATEWAY_USER_AGENT } from './version.js';

export interface RunningGateway {
  app: FastifyInstance;
  url: string;
  stores: Stores;
  close(): Promise<void>;
}

export async function startGateway(config: Config, logger: Logger, given?: Stores): Promise<RunningGateway> {
  if (config.falKey === undefined) throw new ConfigError(['FAL_KEY is required']);
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
  const app = await buildApp({ config, stores, upstream, logger, redis });
  const url = await app.listen({ host: config.host, port: config.port });
  app.reconciler.start();
  let closed: Promise<void> | undefined;
  return {
    app,
    url,
    stores,
    close() {
      closed ??= (async () => {
        await app.close();
        await upstream.close();
        await stores.close();
        redis?.disconnect();
      })();
      return closed;
    },
  };
}

export function handleSignals(gateway: RunningGateway, logger: Logger): void {
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    gateway.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = pino(loggerOptions(config.logLevel));
  const gateway = await startGateway(config, logger);
  logger.info({ url: gateway.url }, 'fal-gateway listening');
  handleSignals(gateway, logger);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    process.stderr.write(`fal-gateway failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
