import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({ FAL_KEY: 'k' });
    expect(c).toMatchObject({
      falRunUrl: 'https://fal.run',
      falQueueUrl: 'https://queue.fal.run',
      host: '127.0.0.1',
      port: 8787,
      databaseUrl: 'sqlite:./data/gateway.db',
      microUsdPerMegapixel: 20_000,
      rounding: 'ceil_per_image',
      unknownFields: 'reject',
      logLevel: 'info',
    });
  });

  it('reports every problem at once', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'abc', FAL_RUN_URL: 'ftp://x', DATABASE_URL: 'mysql://x', PRICE_PER_MEGAPIXEL_USD: '-1', LOG_LEVEL: 'loud', ADMIN_TOKEN: 'short' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const name of ['FAL_KEY', 'PORT', 'FAL_RUN_URL', 'DATABASE_URL', 'PRICE_PER_MEGAPIXEL_USD', 'LOG_LEVEL', 'ADMIN_TOKEN']) {
      expect(problems).toContain(name);
    }
  });

  it('lets demo mode run without FAL_KEY', () => {
    expect(loadConfig({}, { demo: true }).falKey).toBeUndefined();
  });

  it('never echoes FAL_KEY in a problem message', () => {
    try {
      loadConfig({ FAL_KEY: 'super-secret-value', PORT: 'x' });
    } catch (e) {
      expect((e as Error).message).not.toContain('super-secret-value');
    }
  });
});
