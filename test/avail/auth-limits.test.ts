/**
 * Limits that every door must apply (issue #9 item 12): the admin API counts failed logins per IP
 * like the client API, /v1/tokens and /v1/usage are rate-limited per key, and TRUST_PROXY=true is
 * warned about at start-up.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('auth and rate limits on the side doors', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('counts wrong admin tokens against the IP and refuses it past AUTH_FAILURES_PER_MINUTE', async () => {
    const g = (gw = await startTestGateway({ env: { AUTH_FAILURES_PER_MINUTE: '5' } }));
    const admin = (token: string) => g.app.inject({ method: 'GET', url: '/admin/keys', headers: { authorization: `Bearer ${token}` } });
    const statuses = [];
    for (let i = 0; i < 8; i++) statuses.push((await admin(`wrong-token-${i}-xxxxxxxxxxxxxxxx`)).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    const refused = await admin(g.adminToken);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ error_type: 'rate_limited' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Missing credentials count too; the usage report is behind the same check.
    expect((await g.app.inject({ method: 'GET', url: '/admin/usage' })).statusCode).toBe(429);
  });

  it('rate-limits GET /v1/usage and POST /v1/tokens per key (with the polling calls)', async () => {
    const g = (gw = await startTestGateway({ env: { POLL_RATE_LIMIT_RPM: '3' } }));
    const { key } = await g.createKey({ name: 'side' });
    const auth = { authorization: `Key ${key}` };
    const usage = [];
    for (let i = 0; i < 4; i++) usage.push((await g.app.inject({ method: 'GET', url: '/v1/usage', headers: auth })).statusCode);
    expect(usage).toEqual([200, 200, 200, 429]);

    const other = await g.createKey({ name: 'side-2' });
    const mint = () => g.app.inject({ method: 'POST', url: '/v1/tokens', headers: { authorization: `Key ${other.key}`, 'content-type': 'application/json' }, payload: '{}' });
    const minted = [];
    for (let i = 0; i < 4; i++) minted.push((await mint()).statusCode);
    expect(minted).toEqual([201, 201, 201, 429]);
    const last = await mint();
    expect(last.json()).toMatchObject({ error_type: 'rate_limited' });
    expect(last.headers['x-ratelimit-limit']).toBe('3');
  });

  it('warns at start-up that TRUST_PROXY=true lets clients choose their IP', async () => {
    const g = (gw = await startTestGateway({ env: { TRUST_PROXY: 'true' } }));
    const warnings = g.logs.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40 && l.msg.includes('TRUST_PROXY=true'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toMatch(/proxy's address/);
  });

  it('does not warn for a TRUST_PROXY that names the proxy', async () => {
    const g = (gw = await startTestGateway({ env: { TRUST_PROXY: '10.0.0.1' } }));
    expect(g.logs.some((l) => l.includes('TRUST_PROXY'))).toBe(false);
  });
});
