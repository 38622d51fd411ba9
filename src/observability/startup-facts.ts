/** What the start-up line reports (server.ts): which store, Redis, admin and metrics mode are in use. */
import type { Config } from '../config.js';

/** Which store, Redis and admin mode are in use, for the start-up line: never a password or token. */
export function startupFacts(config: Config): Record<string, string> {
  const facts: Record<string, string> = {};
  if (config.databaseUrl.startsWith('sqlite:')) {
    facts.store = 'sqlite';
    facts.store_path = config.databaseUrl.slice('sqlite:'.length);
  } else {
    const u = new URL(config.databaseUrl);
    facts.store = 'postgres';
    facts.store_host = u.port ? `${u.hostname}:${u.port}` : u.hostname;
    facts.store_database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  }
  if (config.redisUrl === undefined) facts.redis = 'not configured';
  else {
    const u = new URL(config.redisUrl);
    facts.redis = `configured (${u.port ? `${u.hostname}:${u.port}` : u.hostname})`;
  }
  facts.admin = config.adminToken === undefined ? 'disabled (ADMIN_TOKEN unset)' : 'enabled (ADMIN_TOKEN)';
  facts.metrics = config.metricsToken === undefined ? 'open' : 'token (METRICS_TOKEN)';
  return facts;
}
