/**
 * The only reader of `process.env`. Every variable is parsed once into one typed object, and every
 * problem is collected so start-up fails with a single message that lists them all.
 */
import { parsePricePerMegapixel } from './domain/pricing.js';
import type { RoundingRule } from './domain/megapixels.js';
import type { UnknownFieldPolicy } from './domain/validation.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  /** fal's key; `undefined` only in demo mode, where the simulated fal is the upstream. */
  falKey: string | undefined;
  falRunUrl: string;
  falQueueUrl: string;
  host: string;
  port: number;
  /** Origin used in URLs the gateway hands out (status_url …); else the request's own origin. */
  publicUrl: string | undefined;
  /** `sqlite:<path>` (embedded default) or `postgres://…`. */
  databaseUrl: string;
  adminToken: string | undefined;
  /** Console sign-in sessions: absolute lifetime and idle expiry, in ms (services/console-sessions.ts). */
  consoleSession: { maxMs: number; idleMs: number };
  /** Bearer token GET /metrics requires; unset = /metrics is open (keep it on an internal network). */
  metricsToken: string | undefined;
  microUsdPerMegapixel: number;
  rounding: RoundingRule;
  unknownFields: UnknownFieldPolicy;
  logLevel: LogLevel;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  /** Upper bound on a sync generation call (headers from fal), in ms. */
  runTimeoutMs: number;
  /** Upper bound on a queue status/result/cancel call to fal, in ms. */
  pollTimeoutMs: number;
  /** How long one fal status answer is shared by all pollers of a request, in ms (0 = single flight only). */
  statusFreshMs: number;
  /** How often the reconciler settles queue requests nobody polls and orphaned reservations, in ms. */
  reconcileIntervalMs: number;
  /**
   * Test-only crash injection (pipeline/failpoint.ts): the process SIGKILLs itself when a request
   * reaches this named point. Unset in production.
   */
  failpoint: string | undefined;
  /** Default generation calls (run, submit) per minute per key; a key's `rpm` overrides it. */
  rateLimitRpm: number;
  /** Polling calls (status, stream, result, cancel) per minute per key. */
  pollRateLimitRpm: number;
  /** Failed or missing credentials per minute per client IP before it is refused outright. */
  authFailuresPerMinute: number;
  /** Shared rate-limit counters across instances; unset = in-memory counters. */
  redisUrl: string | undefined;
  /** Origins allowed to call the gateway from a browser (besides keys' own allowed_origins). */
  corsOrigins: string[];
  /** Gateway-wide cap on generations in flight; set it below the fal account's concurrency. */
  globalMaxConcurrency: number | null;
  /** Largest image any key may ask for, in megapixels, unless its policy sets a lower cap. */
  maxMegapixelsPerImage: number;
  /** Secret the browser-token MAC key is derived from; default FAL_KEY (shared by every instance). */
  tokenSecret: string | undefined;
  /** Open status streams per key, and sockets reserved for status streams (per instance). */
  maxStreamsPerKey: number;
  streamConnections: number;
  /** Fastify trustProxy: false, true, a hop count, or a comma list of proxy addresses/CIDRs. */
  trustProxy: boolean | number | string;
  /** On shutdown, how long in-flight requests may finish before their connections are cut, in ms. */
  shutdownGraceMs: number;
  /** How long an authentication lookup is reused (ms); admin changes on this instance clear it. 0 = off. */
  keyCacheMs: number;
  // --- Deployment (TLS and shutdown drain) ---
  /** Serve https from these PEM files (both or neither); re-read on SIGHUP. Unset = plain http. */
  tls: { certFile: string; keyFile: string } | undefined;
  /** On SIGTERM, how long /readyz answers 503 while requests are still served, so balancers stop routing here first (ms). */
  shutdownDrainMs: number;
  /**
   * Postgres bounds, so a frozen or unreachable database answers 503 promptly instead of holding
   * every request: connecting, one statement, and a transaction left idle (ms). SQLite ignores them.
   */
  database: { connectTimeoutMs: number; statementTimeoutMs: number; idleInTransactionTimeoutMs: number };
  /** Operator alerts (alerts/): budget thresholds, fal auth failures, overruns, reconciler backlog. */
  alerts: AlertConfig;
}

export interface AlertConfig {
  /** Operator webhook; unset = alerts go to the log only. */
  webhookUrl: string | undefined;
  /** HMAC-SHA256 key of the x-gateway-signature header; unset = unsigned (a warning at start-up). */
  webhookSecret: string | undefined;
  /** `json` (the alert object) or `slack` (`{"text": …}` for a Slack incoming webhook). */
  format: 'json' | 'slack';
  /** Percentages of each budget that alert once per period, ascending. */
  thresholds: number[];
  /** Reserved rows past their deadline at one reconciler pass above which it alerts. */
  backlogThreshold: number;
}

/** A URL as it may appear in a message: any user:password@ part replaced, so config errors never print secrets. */
export function redactUrl(raw: string): string {
  // Up to the last `@`: an unencoded `/`, `?`, `#` or `@` in a password must not end the match early.
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/*).*@/i, '$1***@');
}

/**
 * Settings that are valid but risky, for server start-up to log as warnings. TRUST_PROXY=true
 * believes the leftmost X-Forwarded-For, which any client can write: its rate limits and
 * failed-login limit then key on an IP it chooses.
 */
export function configWarnings(config: Config): string[] {
  const out: string[] = [];
  if (config.alerts.webhookUrl !== undefined && config.alerts.webhookSecret === undefined) {
    out.push('ALERT_WEBHOOK_URL is set without ALERT_WEBHOOK_SECRET: alerts are sent unsigned, so the receiver cannot tell them from forgeries');
  }
  if (config.trustProxy === true) {
    out.push('TRUST_PROXY=true trusts X-Forwarded-For from anyone, so a client can choose its own IP (rate limits, failed-login limit); set TRUST_PROXY to your proxy\'s address or CIDR (e.g. 10.0.0.0/8) or a hop count');
  }
  return out;
}

/**
 * The env file server.ts loads before reading the config (ENV_FILE, default `.env`; `off` loads
 * none). Variables already set in the environment win over the file's (process.loadEnvFile).
 */
export function envFilePath(env: Env): { path: string; explicit: boolean } | undefined {
  const raw = env.ENV_FILE?.trim();
  if (raw === 'off') return undefined;
  return raw === undefined || raw === '' ? { path: '.env', explicit: false } : { path: raw, explicit: true };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Parse the environment. `demo: true` lets FAL_KEY be absent (the demo supplies its own). */
export function loadConfig(env: Env, opts: { demo?: boolean } = {}): Config {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };

  const url = (name: string, fallback: string | undefined): string | undefined => {
    const raw = str(name) ?? fallback;
    if (raw === undefined) return undefined;
    try {
      const u = new URL(raw);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
      if (u.username || u.password || u.search || u.hash) throw new Error('extras');
      return u.origin + u.pathname.replace(/\/+$/, '');
    } catch {
      problems.push(`${name} must be an http(s) URL without credentials, query or fragment (got "${redactUrl(raw)}")`);
      return undefined;
    }
  };

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };

  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    problems.push(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
    return fallback;
  };

  /** Crash injection kills the process on purpose: refused outside tests (NODE_ENV=test), never a stray setting. */
  const failpoint = (): string | undefined => {
    const v = str('FAILPOINT');
    if (v !== undefined && env.NODE_ENV !== 'test') problems.push('FAILPOINT is for the crash tests only (it needs NODE_ENV=test)');
    return v;
  };
  const redisUrl = (): string | undefined => {
    const raw = str('REDIS_URL');
    if (raw !== undefined && !/^rediss?:\/\//.test(raw)) problems.push('REDIS_URL must be a redis:// or rediss:// URL');
    return raw;
  };
  const origins = (): string[] => {
    const list = (str('CORS_ORIGINS') ?? '').split(',').map((o) => o.trim()).filter(Boolean);
    for (const o of list) {
      if (o === '*' || !/^https?:\/\/[^/\s]+$/.test(o)) problems.push(`CORS_ORIGINS entries must be exact origins like https://app.example.com (got "${redactUrl(o)}")`);
    }
    return list;
  };
  const megapixels = (): number => {
    const raw = str('MAX_MEGAPIXELS_PER_IMAGE');
    if (raw === undefined) return 4.2;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0 || n > 200) problems.push(`MAX_MEGAPIXELS_PER_IMAGE must be a number in (0, 200] (got "${raw}")`);
    return Number.isFinite(n) && n > 0 ? n : 4.2;
  };

  const trustProxy = (): boolean | number | string => {
    const raw = str('TRUST_PROXY');
    if (raw === undefined || raw === 'false') return false;
    if (raw === 'true') return true;
    if (/^\d{1,2}$/.test(raw)) return Number(raw);
    if (!/^[0-9a-fA-F.:/, ]+$/.test(raw)) problems.push(`TRUST_PROXY must be true, false, a hop count or a list of proxy IPs/CIDRs (got "${raw}")`);
    return raw;
  };

  const falKey = str('FAL_KEY');
  if (falKey === undefined && !opts.demo) {
    problems.push('FAL_KEY is required (your fal API key); run `npm run demo` to try the gateway against the simulated fal');
  }

  const databaseUrl = str('DATABASE_URL') ?? 'sqlite:./data/gateway.db';
  if (!databaseUrl.startsWith('sqlite:') && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(`DATABASE_URL must be sqlite:<path> or postgres://… (got "${redactUrl(databaseUrl)}")`);
  } else if (databaseUrl.trim() === 'sqlite:') {
    // An empty path would silently be an in-memory database: every key and charge lost at exit.
    problems.push('DATABASE_URL=sqlite: needs a file path, e.g. sqlite:./data/gateway.db (sqlite::memory: for a throwaway database)');
  }

  const adminToken = str('ADMIN_TOKEN');
  if (adminToken !== undefined && adminToken.length < 16) {
    problems.push('ADMIN_TOKEN must be at least 16 characters');
  }

  const metricsToken = str('METRICS_TOKEN');
  if (metricsToken !== undefined && metricsToken.length < 16) {
    problems.push('METRICS_TOKEN must be at least 16 characters');
  }

  const priceRaw = str('PRICE_PER_MEGAPIXEL_USD') ?? '0.02';
  const price = parsePricePerMegapixel(priceRaw);
  if (price === null) problems.push(`PRICE_PER_MEGAPIXEL_USD must be a non-negative decimal in USD (got "${priceRaw}")`);

  const config: Config = {
    falKey,
    falRunUrl: url('FAL_RUN_URL', 'https://fal.run') ?? 'https://fal.run',
    falQueueUrl: url('FAL_QUEUE_URL', 'https://queue.fal.run') ?? 'https://queue.fal.run',
    host: str('HOST') ?? '127.0.0.1',
    port: int('PORT', 8787, 0, 65535),
    publicUrl: url('PUBLIC_URL', undefined),
    databaseUrl,
    adminToken,
    consoleSession: {
      maxMs: int('CONSOLE_SESSION_MAX_MS', 12 * 3_600_000, 60_000, 30 * 24 * 3_600_000),
      idleMs: int('CONSOLE_SESSION_IDLE_MS', 30 * 60_000, 60_000, 30 * 24 * 3_600_000),
    },
    metricsToken,
    microUsdPerMegapixel: price ?? 0,
    rounding: oneOf<RoundingRule>('PRICE_ROUNDING', ['ceil_per_image', 'exact'], 'ceil_per_image'),
    unknownFields: oneOf<UnknownFieldPolicy>('UNKNOWN_FIELDS', ['reject', 'forward'], 'reject'),
    logLevel: oneOf<LogLevel>('LOG_LEVEL', LOG_LEVELS, 'info'),
    bodyLimit: int('BODY_LIMIT_BYTES', 1024 * 1024, 1024, 32 * 1024 * 1024),
    runTimeoutMs: int('RUN_TIMEOUT_MS', 300_000, 1000, 3_600_000),
    pollTimeoutMs: int('POLL_TIMEOUT_MS', 15_000, 100, 600_000),
    statusFreshMs: int('STATUS_CACHE_MS', 250, 0, 10_000),
    reconcileIntervalMs: int('RECONCILE_INTERVAL_MS', 5_000, 100, 3_600_000),
    failpoint: failpoint(),
    rateLimitRpm: int('RATE_LIMIT_RPM', 60, 1, 10_000_000),
    pollRateLimitRpm: int('POLL_RATE_LIMIT_RPM', 6000, 1, 10_000_000),
    authFailuresPerMinute: int('AUTH_FAILURES_PER_MINUTE', 30, 1, 1_000_000),
    redisUrl: redisUrl(),
    corsOrigins: origins(),
    globalMaxConcurrency: str('GLOBAL_MAX_CONCURRENCY') === undefined ? null : int('GLOBAL_MAX_CONCURRENCY', 0, 1, 100_000),
    maxMegapixelsPerImage: megapixels(),
    tokenSecret: str('TOKEN_SECRET'),
    maxStreamsPerKey: int('MAX_STREAMS_PER_KEY', 10, 1, 100_000),
    streamConnections: int('STREAM_CONNECTIONS', 100, 1, 100_000),
    trustProxy: trustProxy(),
    shutdownGraceMs: int('SHUTDOWN_GRACE_MS', 10_000, 0, 3_600_000),
    keyCacheMs: int('KEY_CACHE_MS', 2_000, 0, 300_000),
    database: {
      connectTimeoutMs: int('DATABASE_CONNECT_TIMEOUT_MS', 3_000, 100, 600_000),
      statementTimeoutMs: int('DATABASE_STATEMENT_TIMEOUT_MS', 5_000, 100, 3_600_000),
      idleInTransactionTimeoutMs: int('DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', 30_000, 100, 3_600_000),
    },
    // --- Deployment (TLS and shutdown drain) ---
    tls: tlsFiles(str('TLS_CERT_FILE'), str('TLS_KEY_FILE'), problems),
    shutdownDrainMs: int('SHUTDOWN_DRAIN_MS', 0, 0, 600_000),
    alerts: {
      webhookUrl: url('ALERT_WEBHOOK_URL', undefined),
      webhookSecret: str('ALERT_WEBHOOK_SECRET'),
      format: oneOf<'json' | 'slack'>('ALERT_WEBHOOK_FORMAT', ['json', 'slack'], 'json'),
      thresholds: alertThresholds(str('ALERT_THRESHOLDS'), problems),
      backlogThreshold: int('ALERT_BACKLOG_THRESHOLD', 10, 0, 1_000_000),
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** ALERT_THRESHOLDS: comma-separated whole percentages (1–1000), default 50,80,100. */
function alertThresholds(raw: string | undefined, problems: string[]): number[] {
  if (raw === undefined) return [50, 80, 100];
  const values = raw.split(',').map((v) => v.trim());
  if (values.some((v) => !/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 1000)) {
    problems.push('ALERT_THRESHOLDS must be comma-separated whole percentages between 1 and 1000 (e.g. 50,80,100)');
    return [];
  }
  return [...new Set(values.map(Number))].sort((a, b) => a - b);
}

/** TLS_CERT_FILE and TLS_KEY_FILE come as a pair; the files are read (and re-read on SIGHUP) by server.ts. */
function tlsFiles(certFile: string | undefined, keyFile: string | undefined, problems: string[]): Config['tls'] {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE must be set together (PEM certificate chain and private key)');
    return undefined;
  }
  return { certFile, keyFile };
}
