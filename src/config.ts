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
      problems.push(`${name} must be an http(s) URL without credentials, query or fragment (got "${raw}")`);
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

  const falKey = str('FAL_KEY');
  if (falKey === undefined && !opts.demo) {
    problems.push('FAL_KEY is required (your fal API key); run `npm run demo` to try the gateway against the simulated fal');
  }

  const databaseUrl = str('DATABASE_URL') ?? 'sqlite:./data/gateway.db';
  if (!databaseUrl.startsWith('sqlite:') && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(`DATABASE_URL must be sqlite:<path> or postgres://… (got "${databaseUrl}")`);
  }

  const adminToken = str('ADMIN_TOKEN');
  if (adminToken !== undefined && adminToken.length < 16) {
    problems.push('ADMIN_TOKEN must be at least 16 characters');
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
    microUsdPerMegapixel: price ?? 0,
    rounding: oneOf<RoundingRule>('PRICE_ROUNDING', ['ceil_per_image', 'exact'], 'ceil_per_image'),
    unknownFields: oneOf<UnknownFieldPolicy>('UNKNOWN_FIELDS', ['reject', 'forward'], 'reject'),
    logLevel: oneOf<LogLevel>('LOG_LEVEL', LOG_LEVELS, 'info'),
    bodyLimit: int('BODY_LIMIT_BYTES', 1024 * 1024, 1024, 32 * 1024 * 1024),
    runTimeoutMs: int('RUN_TIMEOUT_MS', 300_000, 1000, 3_600_000),
    pollTimeoutMs: int('POLL_TIMEOUT_MS', 15_000, 100, 600_000),
    statusFreshMs: int('STATUS_CACHE_MS', 250, 0, 10_000),
    reconcileIntervalMs: int('RECONCILE_INTERVAL_MS', 5_000, 100, 3_600_000),
    failpoint: str('FAILPOINT'),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
