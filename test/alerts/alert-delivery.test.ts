/**
 * Alert delivery over the wire, one gateway each: a receiver answering 500 gets the alert again
 * (backoff) until it accepts it; the Slack format sends `{"text": …}`, still signed; a settlement
 * overrun, fal refusing FAL_KEY (once however many requests fail) and a reconciler backlog alert.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it, vi } from 'vitest';
import { eventually, startAlertReceiver, type AlertReceiver } from '../helpers/alert-receiver.js';
import { startTestGateway, validInput, type TestGateway } from '../helpers/gateway.js';
import { reserveInput } from '../store/ledger-fixtures.js';

const SECRET = 'alert-secret-for-delivery-tests';
const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

/** A stand-in fal that answers every call with `status`; a 200 bills 5 units (above any 1 MP quote). */
async function standInFal(status: number): Promise<string> {
  const fal: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (status !== 200) return void res.writeHead(status, { 'content-type': 'application/json' }).end('{"detail":"No user found for Key ID and Secret"}');
      res.writeHead(200, { 'content-type': 'application/json', 'x-fal-request-id': '00000001-0000-4000-8000-000000000000', 'x-fal-billable-units': '5' });
      res.end(JSON.stringify({ images: [{ url: 'https://example.invalid/a.jpg', width: 512, height: 512 }], seed: 1 }));
    });
  });
  await new Promise<void>((resolve) => fal.listen(0, '127.0.0.1', resolve));
  open.push({ close: () => new Promise((r) => fal.close(r)) });
  return `http://127.0.0.1:${(fal.address() as AddressInfo).port}`;
}

async function gateway(receiver: AlertReceiver, env: Record<string, string> = {}, falUrl?: string): Promise<TestGateway> {
  const gw = await startTestGateway({ env: { ALERT_WEBHOOK_URL: receiver.url, ALERT_WEBHOOK_SECRET: SECRET, RECONCILE_INTERVAL_MS: '3600000', ...env }, ...(falUrl ? { upstreamUrls: { run: falUrl, queue: falUrl } } : {}) });
  open.push(gw);
  return gw;
}

async function receiver(failFirst = 0): Promise<AlertReceiver> {
  const r = await startAlertReceiver(SECRET, { failFirst });
  open.push(r);
  return r;
}

async function run(gw: TestGateway, key: string): Promise<number> {
  const res = await fetch(`${gw.url}/fal-ai/stable-diffusion-v35-medium`, { method: 'POST', headers: { authorization: `Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(validInput()) });
  await res.arrayBuffer();
  return res.status;
}

it('retries a delivery the receiver answered 500 until it is accepted (an overrun alert)', async () => {
  const r = await receiver(2);
  const gw = await gateway(r, {}, await standInFal(200));
  const { id, key } = await gw.createKey({ name: 'over', rpm: 1000 });
  expect(await run(gw, key)).toBe(200);
  await eventually(() => r.accepted.length === 1, 'the overrun alert after two 500s');
  expect(r.attempts).toBe(3);
  expect(r.forged).toBe(0);
  const alert = r.accepted[0] ?? {};
  expect(alert.type).toBe('settlement_overrun');
  expect(alert.details).toMatchObject({ key_id: id, quoted_micro: 20_000, settled_micro: 100_000 });
  expect(gw.logs.filter((l) => l.includes('"alert":"settlement_overrun"'))).toHaveLength(1);
});

it('sends a Slack-compatible {"text": …} body, signed, when ALERT_WEBHOOK_FORMAT=slack', async () => {
  const r = await receiver();
  const gw = await gateway(r, { ALERT_WEBHOOK_FORMAT: 'slack', ALERT_THRESHOLDS: '50' });
  const probe = await gw.createKey({ name: 'probe', rpm: 1000 });
  expect(await run(gw, probe.key)).toBe(200);
  const one = (await gw.stores.ledger.counterTotals([{ scope: `key:${probe.id}`, bucket: 'all' }]))[0]?.spentMicro ?? 0;
  const { id, key } = await gw.createKey({ name: 'slack', rpm: 1000, budget_daily_usd: (2 * one) / 1e6 });
  expect(await run(gw, key)).toBe(200);
  await eventually(() => r.accepted.length === 1, 'the 50 % alert');
  const body = r.accepted[0] ?? {};
  expect(Object.keys(body)).toEqual(['text']);
  expect(String(body.text)).toContain(`key ${id} has spent 50% of its day`);
});

it('alerts once when fal refuses FAL_KEY, however many requests it refuses', async () => {
  const r = await receiver();
  const gw = await gateway(r, {}, await standInFal(401));
  const { key } = await gw.createKey({ name: 'auth', rpm: 1000 });
  expect([await run(gw, key), await run(gw, key), await run(gw, key)]).toEqual([502, 502, 502]);
  await eventually(() => r.accepted.length >= 1, 'the fal auth alert');
  await new Promise((res) => setTimeout(res, 500));
  expect(r.accepted.map((a) => a.type)).toEqual(['fal_auth_failed']);
  expect(JSON.stringify(r.accepted)).not.toContain(gw.falKey);
});

it('alerts when a reconciler pass finds more rows past their deadline than ALERT_BACKLOG_THRESHOLD', async () => {
  const r = await receiver();
  const gw = await gateway(r, { ALERT_BACKLOG_THRESHOLD: '2' });
  const past = new Date(Date.now() - 60_000).toISOString();
  for (let i = 0; i < 3; i++) {
    const res = await gw.stores.ledger.reserve(reserveInput({ at: past }));
    if (!res.ok) throw new Error('reserve refused');
    await gw.stores.ledger.markSent(res.row.id, past);
  }
  await gw.app.reconciler.pass();
  await eventually(() => r.accepted.length === 1, 'the backlog alert');
  expect(r.accepted[0]?.type).toBe('reconciler_backlog');
  expect(r.accepted[0]?.details).toMatchObject({ overdue: 3, threshold: 2 });
});

it('checks budgets after a settlement the reconciler made for a row another instance reserved', async () => {
  const r = await receiver();
  const gw = await gateway(r, { ALERT_THRESHOLDS: '100' });
  const { id } = await gw.createKey({ name: 'orphan', rpm: 1000, budget_usd: 0.02 });
  // Reserved straight in the shared store (as a crashed instance would have), then past its deadline.
  const past = new Date(Date.now() - 60_000).toISOString();
  const res = await gw.stores.ledger.reserve(reserveInput({ keyId: id, quotedMicro: 20_000, keyLimits: { lifetime: 20_000 }, at: past }));
  if (!res.ok) throw new Error('reserve refused');
  await gw.stores.ledger.markSent(res.row.id, past);
  await gw.app.reconciler.pass();
  await eventually(() => r.accepted.length === 1, 'the 100 % alert');
  expect(r.accepted[0]?.details).toMatchObject({ scope: 'key', id, period: 'lifetime', threshold: 100, spent_micro: 20_000, limit_micro: 20_000 });
});

it('checks budgets after a settlement this instance reserved with the limits the reservation read, not another read of the key', async () => {
  const r = await receiver();
  const gw = await gateway(r, { ALERT_THRESHOLDS: '1' });
  const { id, key } = await gw.createKey({ name: 'known', rpm: 1000, budget_usd: 1 });
  const keyReads = vi.spyOn(gw.stores.keys, 'get');
  expect(await run(gw, key)).toBe(200);
  await eventually(() => r.accepted.length === 1, 'the 1 % alert');
  expect(r.accepted[0]?.details).toMatchObject({ scope: 'key', id, period: 'lifetime', threshold: 1, limit_micro: 1_000_000 });
  expect(keyReads).not.toHaveBeenCalled();
});
