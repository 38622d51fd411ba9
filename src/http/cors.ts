/**
 * CORS for browser clients (docs/design.md §1.3, docs/reliability.md B4 API8): explicit origins only.
 * An origin is allowed when it is in CORS_ORIGINS or in some active key's `allowed_origins`
 * (refreshed from the store every few seconds). The allowed origin is echoed — it is on a list,
 * never reflected blindly — credentials are never allowed (the gateway authenticates with the
 * Authorization header, not cookies), and preflights allow exactly the headers fal clients send.
 * Whether a given key or token may be used from that origin is decided later, per request.
 */
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { FORWARDED_REQUEST_HEADERS } from '../pipeline/forward-headers.js';
import type { Stores } from '../store/stores.js';

const REFRESH_MS = 5_000;

/** Lets key changes take effect at once on this instance (others pick them up within REFRESH_MS). */
export interface CorsOrigins {
  invalidate(): void;
}

export async function registerCors(app: FastifyInstance, config: Config, stores: Stores): Promise<CorsOrigins> {
  let keyOrigins = new Set<string>();
  let loadedAt = 0;
  let loading: Promise<void> | undefined;
  const refresh = async () => {
    const keys = await stores.keys.list();
    keyOrigins = new Set(keys.filter((k) => k.revokedAt === null).flatMap((k) => k.allowedOrigins));
    loadedAt = Date.now();
  };
  const allowed = async (origin: string): Promise<boolean> => {
    if (config.corsOrigins.includes(origin)) return true;
    if (Date.now() - loadedAt > REFRESH_MS) {
      loading ??= refresh().finally(() => (loading = undefined));
      await loading;
    }
    return keyOrigins.has(origin);
  };

  await app.register(cors, {
    origin: (origin, cb) => {
      if (origin === undefined) return cb(null, false);
      allowed(origin).then(
        (ok) => cb(null, ok),
        (err: unknown) => cb(err instanceof Error ? err : new Error(String(err)), false),
      );
    },
    credentials: false,
    methods: ['GET', 'POST', 'PUT'],
    allowedHeaders: ['authorization', 'content-type', 'accept', 'x-fal-target-url', 'idempotency-key', ...FORWARDED_REQUEST_HEADERS],
    exposedHeaders: [
      'x-fal-request-id',
      'x-fal-billable-units',
      'x-gateway-request-id',
      'x-gateway-cost-usd',
      'x-gateway-megapixels',
      'x-gateway-budget-remaining-usd',
      'x-ratelimit-limit',
      'x-ratelimit-remaining',
      'x-ratelimit-reset',
      'retry-after',
    ],
    maxAge: 600,
    strictPreflight: true,
  });
  return { invalidate: () => (loadedAt = 0) };
}
