/**
 * After a mixed run against the simulated fal (runs, submits polled to completion, a 402, a 429, a
 * 422, a fal 500, an unverified settlement), /metrics agrees with the ledger (GET /admin/usage):
 * spend, megapixels and settlement counts; requests, refusals and fal failures by their labels;
 * and budget-remaining gauges exist only for keys and teams that have a budget.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';
import { find, scrape, sum, type Sample } from '../helpers/prometheus.js';

let gw: TestGateway;
const RUN = '/fal-ai/stable-diffusion-v35-medium';
const QUEUE = '/queue/fal-ai/stable-diffusion-v35-medium';

beforeAll(async () => {
  gw = await startTestGateway({ env: { STATUS_CACHE_MS: '1000' } });
});
afterAll(() => gw.close());

const post = async (path: string, key: string, body: unknown): Promise<{ status: number; json: unknown }> => {
  const res = await fetch(gw.url + path, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text.startsWith('{') ? JSON.parse(text) : text };
};
const admin = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
  const res = await fetch(gw.url + path, { ...init, headers: { authorization: `Bearer ${gw.adminToken}`, 'content-type': 'application/json' } });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
};

async function submitAndCollect(key: string): Promise<void> {
  const sub = (await post(QUEUE, key, validInput())).json as { status_url: string; response_url: string };
  let status = '';
  for (let i = 0; i < 200 && status !== 'COMPLETED'; i++) {
    // Two pollers at once: the second joins the first's fal call or reads the cache.
    const [a] = await Promise.all([0, 1].map(() => fetch(sub.status_url, { headers: { authorization: `Key ${key}` } }).then((r) => r.json() as Promise<{ status: string }>)));
    status = a?.status ?? '';
    if (status !== 'COMPLETED') await new Promise((r) => setTimeout(r, 50));
  }
  expect(status).toBe('COMPLETED');
  const result = await fetch(sub.response_url, { headers: { authorization: `Key ${key}` } });
  expect(result.status).toBe(200);
  await result.arrayBuffer();
}

it('counts a mixed run exactly as the ledger records it', async () => {
  const budgeted = await gw.createKey({ name: 'budgeted', team: 'studio', budget_usd: 5, rpm: 1000 });
  const open = await gw.createKey({ name: 'open', rpm: 1000 });
  const tiny = await gw.createKey({ name: 'tiny', budget_usd: 0.001 });
  const slow = await gw.createKey({ name: 'slow', rpm: 1 });
  await admin('/admin/teams/studio', { method: 'PUT', body: JSON.stringify({ budget_usd: 10, budget_daily_usd: null, budget_monthly_usd: null }) });

  const statuses: number[] = [];
  for (const key of [budgeted.key, budgeted.key, open.key]) statuses.push((await post(RUN, key, validInput())).status);
  expect(statuses).toEqual([200, 200, 200]);
  await submitAndCollect(budgeted.key);
  await submitAndCollect(open.key);
  expect((await post(RUN, tiny.key, validInput())).status).toBe(402);
  expect((await post(RUN, slow.key, validInput())).status).toBe(200);
  expect((await post(RUN, slow.key, validInput())).status).toBe(429);
  expect((await post(RUN, open.key, {})).status).toBe(422);
  expect((await post(RUN, open.key, validInput({ prompt: 'x [sim:error]' }))).status).toBe(500);
  // fal ran it but its answer never came: charged at the quote, unverified (failure contract).
  expect((await post(RUN, open.key, validInput({ prompt: 'x [sim:reset-before-headers]' }))).status).toBe(500);

  const m: Sample[] = await scrape(gw.url);
  const usage = await admin<{ total_usd: number; megapixels: number; requests: number; reserved_usd: number }>('/admin/usage');
  const byKey = await admin<{ rows: { group: string; spent_usd: number; megapixels: number }[] }>('/admin/usage?group_by=key');
  expect(usage.reserved_usd).toBe(0);

  // Money and megapixels: the counters equal the ledger, in total and per key.
  expect(sum(m, 'gateway_spend_micro_usd_total')).toBe(Math.round(usage.total_usd * 1e6));
  expect(sum(m, 'gateway_megapixels_settled_total')).toBeCloseTo(usage.megapixels, 5);
  for (const row of byKey.rows) expect(sum(m, 'gateway_spend_micro_usd_total', { key_id: row.group })).toBe(Math.round(row.spent_usd * 1e6));
  expect(sum(m, 'gateway_spend_micro_usd_total', { key_id: budgeted.id, team: 'studio' })).toBeGreaterThan(0);
  expect(sum(m, 'gateway_settlements_total')).toBe(usage.requests);
  expect(sum(m, 'gateway_settlements_unverified_total')).toBe(1);
  expect(sum(m, 'gateway_settlement_overruns_total')).toBe(0);

  // Requests by operation and status; refusals by reason; fal failures by error_type.
  expect(sum(m, 'gateway_requests_total', { operation: 'run', door: 'host', status: '200' })).toBe(4);
  expect(sum(m, 'gateway_requests_total', { operation: 'run', status: '402' })).toBe(1);
  expect(sum(m, 'gateway_requests_total', { operation: 'run', status: '429' })).toBe(1);
  expect(sum(m, 'gateway_requests_total', { operation: 'run', status: '422' })).toBe(1);
  expect(sum(m, 'gateway_requests_total', { operation: 'run', status: '500' })).toBe(2);
  expect(sum(m, 'gateway_requests_total', { operation: 'submit', status: '200' })).toBe(2);
  expect(sum(m, 'gateway_requests_total', { operation: 'result', status: '200' })).toBe(2);
  expect(sum(m, 'gateway_request_duration_seconds_count', { operation: 'run' })).toBe(9);
  expect(sum(m, 'gateway_refusals_total', { reason: 'budget' })).toBe(1);
  expect(sum(m, 'gateway_refusals_total', { reason: 'rate' })).toBe(1);
  expect(sum(m, 'gateway_refusals_total', { reason: 'validation' })).toBe(1);
  expect(sum(m, 'gateway_refusals_total')).toBe(3);
  expect(sum(m, 'gateway_fal_failures_total', { call: 'run', error_type: 'server_error' })).toBe(1);
  expect(sum(m, 'gateway_fal_failures_total', { call: 'run' })).toBe(2);
  // Six runs and two submits reached fal (the 402, 429 and 422 never did).
  expect(sum(m, 'gateway_fal_request_duration_seconds_count', { call: 'run' })).toBe(6);
  expect(sum(m, 'gateway_fal_request_duration_seconds_count', { call: 'submit' })).toBe(2);
  const lookups = sum(m, 'gateway_status_lookups_total');
  expect(lookups).toBe(sum(m, 'gateway_requests_total', { operation: 'status' }));
  expect(sum(m, 'gateway_status_lookups_total', { outcome: 'fetched' })).toBeGreaterThanOrEqual(1);
  expect(sum(m, 'gateway_status_lookups_total', { outcome: 'fetched' })).toBeLessThan(lookups);
  expect(sum(m, 'gateway_reservations_in_flight')).toBe(0);

  // Budget gauges: only for what has a budget.
  const spentBudgeted = sum(m, 'gateway_spend_micro_usd_total', { key_id: budgeted.id });
  expect(find(m, 'gateway_key_budget_remaining_micro_usd', { key_id: budgeted.id, period: 'lifetime' })[0]?.value).toBe(5_000_000 - spentBudgeted);
  expect(find(m, 'gateway_key_budget_limit_micro_usd', { key_id: budgeted.id, period: 'lifetime' })[0]?.value).toBe(5_000_000);
  expect(find(m, 'gateway_key_budget_remaining_micro_usd', { key_id: budgeted.id })).toHaveLength(1);
  expect(find(m, 'gateway_key_budget_remaining_micro_usd', { key_id: open.id })).toHaveLength(0);
  expect(find(m, 'gateway_key_budget_remaining_micro_usd', { key_id: tiny.id, period: 'lifetime' })[0]?.value).toBe(1000);
  expect(find(m, 'gateway_team_budget_remaining_micro_usd', { team: 'studio', period: 'lifetime' })[0]?.value).toBe(10_000_000 - spentBudgeted);
}, 60_000);
