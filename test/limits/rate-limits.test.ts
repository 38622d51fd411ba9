/** Requests per minute per key, generation and polling counted apart, failed auth per IP. */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ env: { RATE_LIMIT_RPM: '3', POLL_RATE_LIMIT_RPM: '5', AUTH_FAILURES_PER_MINUTE: '4' } });
});
afterAll(() => gw.close());
afterEach(() => {
  vi.useRealTimers();
});

const run = (key: string) =>
  gw.app.inject({ method: 'POST', url: '/fal-ai/stable-diffusion-v35-medium', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, payload: JSON.stringify(validInput()) });

describe('rate limits', () => {
  it('admits exactly L generation calls per window, then 429 with a correct Retry-After, and resets at the window edge', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-26T12:00:00.000Z'));
    const { key } = await gw.createKey({ name: 'rl' });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await run(key);
      statuses.push(r.statusCode);
      expect(r.headers['x-ratelimit-limit']).toBe('3');
      expect(r.headers['x-ratelimit-remaining']).toBe(String(2 - i));
    }
    expect(statuses).toEqual([200, 200, 200]);
    vi.setSystemTime(new Date('2026-11-26T12:00:45.000Z'));
    const refused = await run(key);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ error_type: 'rate_limited' });
    expect(refused.headers['retry-after']).toBe('15');
    // Just before the edge: still refused; just after: admitted again.
    vi.setSystemTime(new Date('2026-11-26T12:00:59.900Z'));
    expect((await run(key)).statusCode).toBe(429);
    vi.setSystemTime(new Date('2026-11-26T12:01:00.100Z'));
    expect((await run(key)).statusCode).toBe(200);
  });

  it("uses a key's own rpm over the default", async () => {
    const { key } = await gw.createKey({ name: 'rl-5', rpm: 5 });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await run(key)).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('counts polling separately: polls never eat the generation allowance', async () => {
    const { key } = await gw.createKey({ name: 'rl-poll' });
    const sub = await gw.app.inject({ method: 'POST', url: '/queue/fal-ai/stable-diffusion-v35-medium', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, payload: JSON.stringify(validInput()) });
    expect(sub.statusCode).toBe(200);
    const id = sub.json<{ request_id: string }>().request_id;
    const polls = [];
    for (let i = 0; i < 6; i++) {
      polls.push((await gw.app.inject({ method: 'GET', url: `/queue/fal-ai/stable-diffusion-v35-medium/requests/${id}/status`, headers: { authorization: `Key ${key}` } })).statusCode);
    }
    expect(polls.slice(0, 5).every((s) => s === 200 || s === 202)).toBe(true);
    expect(polls[5]).toBe(429);
    // Generation allowance: 1 used by the submit, 2 left.
    expect((await run(key)).statusCode).toBe(200);
    expect((await run(key)).statusCode).toBe(200);
    expect((await run(key)).statusCode).toBe(429);
  });

  it('refuses an IP that keeps failing authentication before looking any key up', async () => {
    const { key } = await gw.createKey({ name: 'victim' });
    const remote = '10.9.8.7';
    const bad = () => gw.app.inject({ method: 'POST', url: '/fal-ai/stable-diffusion-v35-medium', remoteAddress: remote, headers: { authorization: 'Key fgw_sk_wrong', 'content-type': 'application/json' }, payload: '{}' });
    for (let i = 0; i < 4; i++) expect((await bad()).statusCode).toBe(401);
    const blocked = await bad();
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // Even a valid key from that IP waits out the window; other IPs are unaffected.
    const fromSameIp = await gw.app.inject({ method: 'POST', url: '/fal-ai/stable-diffusion-v35-medium', remoteAddress: remote, headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, payload: JSON.stringify(validInput()) });
    expect(fromSameIp.statusCode).toBe(429);
    expect((await run(key)).statusCode).toBe(200);
  });
});
