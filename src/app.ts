/**
 * Builds the gateway as a Fastify instance from its dependencies. No I/O of its own: server.ts
 * opens stores and listens; tests build the app with fakes or a loopback simulated fal.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { Ajv } from 'ajv';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { configWarnings, type Config } from './config.js';
import { tokenMacKey } from './domain/tokens.js';
import { createInputValidator } from './domain/validation.js';
import { registerCors } from './http/cors.js';
import { registerJsonBody } from './http/json-body.js';
import { registerGracefulClose } from './http/graceful-close.js';
import { registerErrorHandlers } from './http/reply-errors.js';
import { registerRequestLog } from './http/request-log.js';
import { adminAuditRoutes } from './http/routes/admin-audit.js';
import { adminKeyRoutes } from './http/routes/admin-keys.js';
import { adminRequestRoutes } from './http/routes/admin-requests.js';
import { adminUsageRoutes } from './http/routes/admin-usage.js';
import { consoleSessionRoutes } from './http/routes/console-session.js';
import { docsRoutes } from './http/routes/docs.js';
import { selfServiceRoutes } from './http/routes/self-service.js';
import { tokenRoutes } from './http/routes/tokens.js';
import { loopbackImageOrigins, webRoutes, WEB_ROOT } from './http/routes/web.js';
import { webhookRoutes } from './http/routes/webhooks.js';
import { GatewayWebhooks } from './webhooks/gateway-webhooks.js';
import { RelayFailureAlerts } from './alerts/relay-alerts.js';
import { KeyCache } from './pipeline/key-cache.js';
import { RateLimits } from './pipeline/limits.js';
import { StreamSlots } from './pipeline/stream-slots.js';
import { healthRoutes } from './http/routes/health.js';
import { hostModeRoutes } from './http/routes/host-mode.js';
import { proxyModeRoutes } from './http/routes/proxy-mode.js';
import type { PipelineContext } from './pipeline/context.js';
import { OwnerDirectory } from './pipeline/owner-directory.js';
import { statusFetcher } from './pipeline/queue-ops.js';
import { LedgerRetry } from './pipeline/ledger-retry.js';
import { QueueSettler } from './pipeline/queue-settler.js';
import { Reconciler } from './pipeline/reconciler.js';
import { StatusCoalescer } from './pipeline/status-coalescer.js';
import { logOverruns } from './store/ledger-overrun.js';
import { OperatorAlerts } from './alerts/operator-alerts.js';
import { metricsRoutes } from './http/routes/metrics.js';
import { registerBudgetGauges } from './observability/budget-gauges.js';
import { meteredLedger } from './observability/metered-ledger.js';
import { meteredUpstream } from './observability/metered-upstream.js';
import { GatewayMetrics } from './observability/metrics.js';
import { registerRequestMetrics } from './observability/request-metrics.js';
import { RATE_LIMIT_STORE_ENTRIES, STATUS_CACHE_BOUNDS, type CacheBounds } from './pipeline/memory-bounds.js';
import type { Stores } from './store/stores.js';
import type { FalUpstream } from './upstream/fal-upstream.js';
import { adminReconciliationRoutes } from './http/routes/admin-reconciliation.js';
import { reconciliationParts, type ReconciliationParts } from './services/reconciliation-wiring.js';
import { priceParts, type PriceParts } from './services/price-source.js';
import { createFalPlatform } from './upstream/fal-platform.js';
import { GATEWAY_USER_AGENT } from './version.js';

declare module 'fastify' {
  interface FastifyInstance {
    reconciler: Reconciler;
    /** Reconciliation against fal's usage API; server.ts starts its job. */
    reconciliation: ReconciliationParts;
    /** Where new quotes get their price (PRICE_SOURCE); server.ts starts it before listening. */
    price: PriceParts;
  }
}

export interface AppDeps {
  config: Config;
  stores: Stores;
  upstream: FalUpstream;
  /** Shared rate-limit counters (REDIS_URL); omitted = in-memory counters for this instance. */
  redis?: Redis;
  /** A pino logger, or false for none (tests that do not read logs). */
  logger: Logger | false;
  now?: () => Date;
  /** Serve https with this certificate and key (TLS_CERT_FILE / TLS_KEY_FILE, read by server.ts). */
  https?: { cert: Buffer; key: Buffer };
  /** Smaller cache bounds than memory-bounds.ts's, for tests that make the caches evict. */
  cacheBounds?: { keys?: CacheBounds; owners?: CacheBounds; statuses?: CacheBounds };
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger === false ? { logger: false } : { loggerInstance: deps.logger }),
    // Fastify's own two lines per request are off: http/request-log.ts writes one line instead.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    bodyLimit: deps.config.bodyLimit,
    genReqId: () => `gw_${randomUUID()}`,
    // X-Forwarded-* are trusted only from the configured proxies (TRUST_PROXY, default none): a
    // client must not choose its own IP (rate limits) or the origin written into status URLs.
    // (A hop count is a documented value; Fastify's typings only list booleans and addresses.)
    trustProxy: deps.config.trustProxy as boolean | string,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Time to receive a whole request (slow-loris bound). Responses are bounded by the upstream
    // timeouts instead: a sync generation or an SSE stream may legitimately idle for minutes.
    requestTimeout: 30_000,
    // HTTP/1.1 only, also over TLS: graceful close relies on http.Server's closeAllConnections
    // (absent on HTTP/2 servers) and every fal client speaks HTTP/1.1 (README, direct TLS).
    ...(deps.https ? { https: deps.https } : {}),
  }) as unknown as FastifyInstance;

  // Route schemas (admin) are validated strictly: no coercion, no defaults, nothing removed.
  const ajv = new Ajv({ allErrors: true, coerceTypes: false, useDefaults: false, removeAdditional: false, strict: false });
  app.setValidatorCompiler(({ schema }) => ajv.compile(schema));

  for (const warning of configWarnings(deps.config)) app.log.warn(warning);
  const limits = await RateLimits.register(app, deps.config, deps.redis, RATE_LIMIT_STORE_ENTRIES);
  const corsOrigins = await registerCors(app, deps.config, deps.stores);

  // Graceful shutdown (http/graceful-close.ts): new requests get 503 (return503OnClosing), in-flight
  // ones finish within SHUTDOWN_GRACE_MS, then their fal calls are aborted and answered.
  const graceful = registerGracefulClose(app, deps.config.shutdownGraceMs, () => ctx.streams.endAll());
  const now = deps.now ?? (() => new Date());
  const falKey = deps.config.tokenSecret ?? deps.config.falKey;
  if (falKey === undefined) throw new Error('FAL_KEY (or TOKEN_SECRET) is required to sign browser tokens');
  // Metrics wrap the ledger (settlements) and fal's client (latency, failures): observability/.
  const metrics = new GatewayMetrics();
  // Operator alerts (alerts/) wrap the same two, and take overruns and reconciler passes below.
  const alerts = new OperatorAlerts(deps.config.alerts, deps.stores, app.log, now);
  const stores: Stores = { ...deps.stores, ledger: meteredLedger(alerts.ledger(deps.stores.ledger), metrics, app.log) };
  const logOverrun = logOverruns(app.log);
  const platformConfig = deps.config.platform;
  const price = priceParts(platformConfig.priceSource, {
    // The pricing API takes any valid key of the account: the admin key when set, else FAL_KEY.
    platform: createFalPlatform({ apiUrl: platformConfig.apiUrl, adminKey: platformConfig.adminKey, priceKey: platformConfig.adminKey ?? deps.config.falKey, timeoutMs: platformConfig.timeoutMs, userAgent: GATEWAY_USER_AGENT }),
    store: deps.stores.prices,
    fallbackMicro: deps.config.microUsdPerMegapixel,
    refreshMs: platformConfig.priceRefreshMs,
    now,
    log: app.log,
  });
  app.decorate('price', price);
  const ctx: PipelineContext = {
    config: deps.config,
    price: price.provider,
    stores,
    upstream: meteredUpstream(alerts.upstream(deps.upstream), metrics),
    validateInput: createInputValidator({ unknownFields: deps.config.unknownFields }),
    owners: new OwnerDirectory(deps.stores.owners, deps.cacheBounds?.owners),
    // Both replaced just below: they need the finished context.
    statuses: undefined as unknown as StatusCoalescer,
    settler: undefined as unknown as QueueSettler,
    ledgerRetry: new LedgerRetry(app.log),
    limits,
    keys: new KeyCache(deps.stores.keys, deps.config.keyCacheMs, () => now().getTime(), deps.cacheBounds?.keys),
    streams: new StreamSlots(deps.config.maxStreamsPerKey, deps.config.streamConnections),
    corsOrigins,
    tokenMacKey: tokenMacKey(falKey),
    now,
    onOverrun: (o) => {
      logOverrun(o);
      metrics.overruns.inc();
      metrics.overrunMicro.inc(o.settledMicro - o.quotedMicro);
      alerts.overrun(o);
    },
    shutdownSignal: graceful.signal,
  };
  ctx.settler = new QueueSettler(ctx, app.log);
  ctx.statuses = new StatusCoalescer(statusFetcher(ctx, app.log), {
    freshMs: deps.config.statusFreshMs,
    // Clients stop polling at COMPLETED; a late poll after this asks fal again (memory-bounds.ts).
    terminalTtlMs: 2 * 60_000,
    bounds: deps.cacheBounds?.statuses ?? STATUS_CACHE_BOUNDS,
    now: () => now().getTime(),
    onLookup: (outcome) => metrics.statusLookup(outcome),
  });
  registerBudgetGauges(metrics, stores, now, app.log);
  // Webhook settlement and relay (webhooks/): the relay worker runs only where fal can reach us.
  const relayAlerts = new RelayFailureAlerts((a) => alerts.sender.send(a), now);
  const webhooks = new GatewayWebhooks(ctx, app.log, {
    delivery: (d) => metrics.webhookDeliveries.inc(d.accepted ? { outcome: 'accepted', reason: 'none' } : { outcome: 'refused', reason: d.reason }),
    relayFailed: (f) => {
      metrics.webhookRelayFailures.inc();
      relayAlerts.failed(f);
    },
  });
  if (deps.config.webhooks.publicUrl !== undefined) app.addHook('onReady', () => webhooks.start());
  // Started by server.ts (start-up recovery is its first pass); tests drive `pass()` directly.
  app.decorate('reconciler', new Reconciler(ctx, ctx.settler, app.log, deps.config.reconcileIntervalMs, (overdue) => alerts.backlog(overdue)));
  app.decorate('reconciliation', reconciliationParts(deps.config, stores, now, app.log, alerts, metrics));
  app.addHook('onClose', async () => {
    await app.reconciliation.job.stop();
    app.price.stop();
    // A last try for held settlements first (what still fails is charged at its quote by
    // recovery), then the reconciler, which stops after the row in hand.
    await ctx.ledgerRetry.flush();
    await app.reconciler.stop();
    await ctx.ledgerRetry.flush();
    ctx.ledgerRetry.stop();
    await webhooks.stop();
    relayAlerts.close();
    alerts.close();
  });

  registerJsonBody(app, deps.config.bodyLimit);
  registerErrorHandlers(app);
  registerRequestLog(app);
  registerRequestMetrics(app, metrics);
  metricsRoutes(app, metrics, deps.config.metricsToken);
  healthRoutes(app, ctx, () => graceful.isClosing());
  await docsRoutes(app, deps.config.publicUrl, deps.config.unknownFields);
  await webRoutes(app, WEB_ROOT, loopbackImageOrigins([deps.config.falRunUrl]));
  await app.register((admin, _opts, done) => {
    adminKeyRoutes(admin, ctx);
    adminUsageRoutes(admin, ctx);
    adminRequestRoutes(admin, ctx);
    adminAuditRoutes(admin, ctx);
    adminReconciliationRoutes(admin, ctx, app.reconciliation.service);
    done();
  });
  consoleSessionRoutes(app, ctx);
  selfServiceRoutes(app, ctx);
  tokenRoutes(app, ctx);
  webhookRoutes(app, webhooks);

  hostModeRoutes(app, ctx);
  proxyModeRoutes(app, ctx);

  return app;
}
