/**
 * pino options for the gateway: one structured line per request (written by http/request-log.ts),
 * with every place a secret could sit redacted. Request logging by Fastify itself is off, so URLs
 * and headers are only logged where we choose.
 */
import type { LoggerOptions } from 'pino';
import type { LogLevel } from './config.js';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-fal-target-url"]',
  'headers.authorization',
  '*.authorization',
  '*.falKey',
  '*.fal_key',
  '*.adminToken',
  '*.key',
  '*.secret',
  '*.token',
];

export function loggerOptions(level: LogLevel): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'fal-gateway' },
  };
}
