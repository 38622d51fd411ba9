/**
 * Step 5 of the pipeline: requests per minute (docs/design.md §1, docs/reliability.md B4). @fastify/rate-limit
 * does the arithmetic over pipeline/rate-counters.ts (Redis when REDIS_URL is set, so the limit
 * holds across instances, with a per-instance fallback while Redis is unreachable; in memory
 * otherwise), keyed by the authenticated principal:
 * - generation calls (run, submit) and polling calls (status, stream, result, cancel) are counted
 *   separately, so a client polling its jobs never eats its own generation allowance;
 * - failed or missing credentials are counted per client IP, and an IP over that limit is refused
 *   before any key lookup.
 * Fixed one-minute windows; a refusal is 429 `rate_limited` with Retry-After and the
 * x-ratelimit-* headers.
 */
import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { GatewayError } from '../errors.js';
import { RateCounters, type RedisState } from './rate-counters.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The counter and limit the next limiter call applies (set just before the call). */
    rateKey: string;
    rateMax: number;
  }
}

export type LimitClass = 'generation' | 'polling';

const WINDOW_MS = 60_000;

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;
type Outcome = Awaited<ReturnType<Limiter>>;

export class RateLimits {
  private readonly limiter: Limiter;

  /** Registers @fastify/rate-limit over the gateway's counters (per-route hooks are not used: the pipeline calls it after auth). */
  static async register(app: FastifyInstance, config: Config, redis: Redis | undefined, localEntries?: number): Promise<RateLimits> {
    const counters = new RateCounters(redis, app.log, localEntries);
    // The plugin builds its store with `new`; a constructor returning an object yields that object.
    const store = function SharedCounters() {
      return counters;
    } as unknown as FastifyRateLimitStoreCtor;
    await app.register(rateLimit, { global: false, store });
    app.addHook('onClose', (_app, done) => {
      counters.close();
      done();
    });
    return new RateLimits(app, config, counters);
  }

  private constructor(
    app: FastifyInstance,
    private readonly config: Config,
    private readonly counters: RateCounters,
  ) {
    app.decorateRequest('rateKey', '');
    app.decorateRequest('rateMax', 0);
    this.limiter = app.createRateLimit({
      keyGenerator: (req) => req.rateKey,
      max: (req) => req.rateMax,
      timeWindow: WINDOW_MS,
    });
  }

  /** Counts one call for the key and refuses it past the limit; sets the rate-limit headers either way. */
  async check(request: FastifyRequest, reply: FastifyReply, keyId: string, keyRpm: number | null, cls: LimitClass): Promise<void> {
    const max = cls === 'generation' ? (keyRpm ?? this.config.rateLimitRpm) : this.config.pollRateLimitRpm;
    const r = await this.apply(request, `${cls === 'generation' ? 'g' : 'p'}:${keyId}`, max, true);
    reply.headers(headersOf(r));
    if (r.isExceeded) throw tooMany(r, cls === 'generation' ? 'generation' : 'polling');
  }

  /** Where the counters live now, for /readyz. */
  redisState(): RedisState {
    return this.counters.state();
  }

  /** Before any key lookup: an IP that failed authentication too often is refused outright. */
  async checkAuthFailures(request: FastifyRequest): Promise<void> {
    const r = await this.apply(request, `f:${request.ip}`, this.config.authFailuresPerMinute, false);
    if (r.remaining <= 0) throw tooMany(r, 'failed-authentication');
  }

  async countAuthFailure(request: FastifyRequest): Promise<void> {
    await this.apply(request, `f:${request.ip}`, this.config.authFailuresPerMinute, true);
  }

  private async apply(request: FastifyRequest, key: string, max: number, increment: boolean): Promise<Extract<Outcome, { isAllowed: false }>> {
    request.rateKey = key;
    request.rateMax = max;
    const r = await this.limiter(request, { increment });
    // No allow-list is configured, so every answer carries the counter state.
    if (r.isAllowed) throw new Error('rate limiter returned no state');
    return r;
  }
}

function headersOf(r: Extract<Outcome, { isAllowed: false }>): Record<string, string> {
  return {
    'x-ratelimit-limit': String(r.max),
    'x-ratelimit-remaining': String(r.remaining),
    'x-ratelimit-reset': String(r.ttlInSeconds),
  };
}

function tooMany(r: Extract<Outcome, { isAllowed: false }>, what: string): GatewayError {
  const retry = String(Math.max(1, r.ttlInSeconds));
  return new GatewayError('rate_limited', `Too many ${what} requests: ${r.max} per minute; retry in ${retry} s`, { 'retry-after': retry, ...headersOf(r) });
}
