/**
 * Rate-limit counters for @fastify/rate-limit (its `store` contract: incr, read, child) that keep
 * the API up through a Redis outage. The rule (README, Operations):
 * - Redis reachable: counters live in Redis, so a limit holds across every instance.
 * - Redis unreachable (refused, reset, or a command slower than its timeout): each instance counts
 *   in its own memory, so during the outage a key may get up to N× its limit across N instances.
 *   Budgets are not affected: they are held in the database. Answers stay fast (ioredis is built
 *   with no offline queue and a command timeout, server.ts).
 * - The switch is logged once as JSON (warn), and so is the recovery (info); /readyz reports it.
 *   A probe PINGs Redis while it is down and switches back by itself.
 * Fixed windows in both places: INCR, and PEXPIRE when the window opens.
 */
import type { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';

export type RedisState = 'not_configured' | 'ok' | 'connecting' | 'unreachable';

type Callback = (err: Error | null, res?: { current: number; ttl: number }) => void;

const INCR = `local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local t = redis.call('PTTL', KEYS[1])
if t < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); t = tonumber(ARGV[1]) end
return {c, t}`;
const READ = `local c = redis.call('GET', KEYS[1])
if not c then return {0, 0} end
local t = redis.call('PTTL', KEYS[1])
if t < 0 then t = 0 end
return {tonumber(c), t}`;

const NAMESPACE = 'fgw-rl:';
const PROBE_MS = 1_000;
/** In-memory windows kept at most by default (oldest dropped first); each is a key and two numbers. */
export const DEFAULT_LOCAL_ENTRIES = 50_000;

export class RateCounters {
  private readonly local = new Map<string, { count: number; startMs: number }>();
  private down = false;
  private closing = false;
  private probe: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis | undefined,
    private readonly log: FastifyBaseLogger,
    private readonly maxLocalEntries = DEFAULT_LOCAL_ENTRIES,
    private readonly nowMs: () => number = () => Date.now(),
  ) {
    if (!redis) return;
    // A listener must exist before the first connection attempt, or ioredis prints
    // "[ioredis] Unhandled error event" lines (not JSON) to stderr on every retry.
    redis.on('error', (err: Error) => this.markDown(err));
    redis.on('close', () => this.markDown(new Error('connection closed')));
    redis.on('ready', () => this.checkUp());
    if (redis.status === 'wait') redis.connect().catch((err: unknown) => this.markDown(err));
  }

  state(): RedisState {
    if (!this.redis) return 'not_configured';
    if (this.down) return 'unreachable';
    return this.redis.status === 'ready' ? 'ok' : 'connecting';
  }

  incr(key: string, cb: Callback, windowMs: number): void {
    this.viaRedis(INCR, key, [windowMs], cb, () => this.localIncr(key, windowMs));
  }

  read(key: string, cb: Callback, windowMs: number): void {
    this.viaRedis(READ, key, [], cb, () => this.localRead(key, windowMs));
  }

  /** @fastify/rate-limit asks each limiter for a child store; keys are already distinct. */
  child(): this {
    return this;
  }

  close(): void {
    this.closing = true;
    clearInterval(this.probe);
  }

  private viaRedis(script: string, key: string, args: number[], cb: Callback, fallback: () => { current: number; ttl: number }): void {
    const redis = this.redis;
    if (!redis || this.down || redis.status !== 'ready') return cb(null, fallback());
    redis.eval(script, 1, NAMESPACE + key, ...args).then(
      (res) => {
        const pair: unknown[] = Array.isArray(res) ? (res as unknown[]) : [];
        const [current, ttl] = pair;
        if (typeof current !== 'number' || typeof ttl !== 'number') return cb(null, fallback());
        cb(null, { current, ttl });
      },
      (err: unknown) => {
        this.markDown(err);
        cb(null, fallback());
      },
    );
  }

  private localIncr(key: string, windowMs: number): { current: number; ttl: number } {
    const now = this.nowMs();
    let w = this.local.get(key);
    if (!w || w.startMs + windowMs <= now) {
      this.local.delete(key);
      w = { count: 0, startMs: now };
      if (this.local.size >= this.maxLocalEntries) {
        const oldest = this.local.keys().next();
        if (oldest.done !== true) this.local.delete(oldest.value);
      }
      this.local.set(key, w);
    }
    w.count += 1;
    return { current: w.count, ttl: w.startMs + windowMs - now };
  }

  private localRead(key: string, windowMs: number): { current: number; ttl: number } {
    const now = this.nowMs();
    const w = this.local.get(key);
    if (!w || w.startMs + windowMs <= now) return { current: 0, ttl: 0 };
    return { current: w.count, ttl: w.startMs + windowMs - now };
  }

  private markDown(err: unknown): void {
    if (this.closing || this.down || !this.redis) return;
    this.down = true;
    this.log.warn(
      { err: err instanceof Error ? { message: err.message } : { message: String(err) }, redis: 'unreachable' },
      'Redis unreachable: rate limits now count per instance (in memory) until it returns; budgets are unaffected',
    );
    this.probe = setInterval(() => this.checkUp(), PROBE_MS);
    this.probe.unref();
  }

  private checkUp(): void {
    const redis = this.redis;
    if (!redis || !this.down || this.closing || redis.status !== 'ready') return;
    redis.ping().then(
      () => {
        if (!this.down || this.closing) return;
        this.down = false;
        clearInterval(this.probe);
        this.probe = undefined;
        this.log.info({ redis: 'ok' }, 'Redis reachable again: rate limits are shared across instances again');
      },
      () => undefined,
    );
  }
}
