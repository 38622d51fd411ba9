/**
 * What an operator sees of webhooks: a relay the gateway gives up on raises one signed
 * `webhook_relay_failed` alert (later failures in its window are coalesced into one summary) and
 * counts in gateway_webhook_relay_failures_total; fal's deliveries count in
 * gateway_webhook_deliveries_total by outcome and a fixed set of reasons.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RelayFailureAlerts } from '../../src/alerts/relay-alerts.js';
import type { Alert } from '../../src/alerts/alert.js';
import { startAlertReceiver, type AlertReceiver } from '../helpers/alert-receiver.js';
import { scrape, sum } from '../helpers/prometheus.js';
import { startRig, startReceiver, submit, webhookKey, eventually, quiet, type Receiver, type Rig } from './harness.js';

const SECRET = 'alert-secret-0123456789abcdef';
let rig: Rig | undefined;
let receiver: Receiver | undefined;
let alerts: AlertReceiver | undefined;
afterEach(async () => {
  await rig?.close();
  await receiver?.close();
  await alerts?.close();
  rig = receiver = alerts = undefined;
});

function gw(r: Rig) {
  const g = r.gateways[0];
  if (g === undefined) throw new Error('no gateway');
  return g;
}

const relayAlerts = (a: AlertReceiver) => a.accepted.filter((x) => x.type === 'webhook_relay_failed');

describe('webhook alerts and metrics', () => {
  it('a relay given up raises one signed webhook_relay_failed alert; a second failure in its window is coalesced; both are counted', async () => {
    alerts = await startAlertReceiver(SECRET);
    rig = await startRig({ env: { WEBHOOK_RELAY_MAX_ATTEMPTS: '2', ALERT_WEBHOOK_URL: alerts.url, ALERT_WEBHOOK_SECRET: SECRET } });
    const g = gw(rig);
    receiver = await startReceiver(() => `${g.url}/.well-known/jwks.json`);
    receiver.failNext = 1_000;
    const key = await webhookKey(rig, receiver.url);
    const first = String((await submit(g.url, key.key, receiver.url)).json.request_id);
    await eventually(() => (alerts?.accepted.length ?? 0) === 1, 'the relay alert');
    expect(relayAlerts(alerts)[0]).toMatchObject({
      type: 'webhook_relay_failed',
      details: { failures: 1, key_id: key.id, fal_request_id: first, attempts: 2, error: 'receiver answered 503 after 2 attempts' },
    });
    expect(sum(await scrape(g.url), 'gateway_webhook_relay_failures_total')).toBe(1);

    const second = String((await submit(g.url, key.key, receiver.url)).json.request_id);
    await eventually(async () => sum(await scrape(g.url), 'gateway_webhook_relay_failures_total') === 2, 'the second failure to count');
    const row = await g.stores.ledger.findByFalRequestId(second);
    expect((await g.stores.webhooks.get(row?.id ?? ''))?.state).toBe('failed');
    await quiet();
    // Within RELAY_ALERT_EVERY_MS of the first: held for the window's summary, not sent again now.
    expect(relayAlerts(alerts)).toHaveLength(1);
    expect(alerts.forged).toBe(0);
    expect(JSON.stringify(alerts.accepted)).not.toContain(key.key);
  });

  it('counts accepted deliveries and refusals by reason (forged signatures)', async () => {
    rig = await startRig({ env: { WEBHOOK_SETTLEMENT: 'true' }, simFaults: { webhookBadSignatureRate: 1, webhookMaxRetries: 2 } });
    const g = gw(rig);
    const key = await webhookKey(rig, 'https://hooks.example');
    const forged = String((await submit(g.url, key.key)).json.request_id);
    await eventually(() => rig?.sim.webhookDeliveries().filter((d) => d.requestId === forged).length === 3, 'three forged attempts');
    await quiet();
    let samples = await scrape(g.url);
    expect(sum(samples, 'gateway_webhook_deliveries_total', { outcome: 'refused', reason: 'bad_signature' })).toBe(3);
    expect(sum(samples, 'gateway_webhook_deliveries_total', { outcome: 'accepted' })).toBe(0);

    rig.sim.setFaults({ webhookBadSignatureRate: 0 });
    const good = String((await submit(g.url, key.key)).json.request_id);
    await eventually(async () => (await g.stores.ledger.findByFalRequestId(good))?.state === 'settled', 'the good delivery to settle');
    samples = await scrape(g.url);
    expect(sum(samples, 'gateway_webhook_deliveries_total', { outcome: 'accepted', reason: 'none' })).toBe(1);
    // (fal's first attempt may beat the submit's bookkeeping: an unknown_request refusal, early-delivery.test.ts.)
    expect(sum(samples, 'gateway_webhook_deliveries_total', { outcome: 'refused', reason: 'bad_signature' })).toBe(3);
  });
});

describe('RelayFailureAlerts', () => {
  it('sends the first failure at once and the rest of its window as one summary when the window ends', async () => {
    const sent: Alert[] = [];
    let t = 1_767_225_600_000;
    const coalescer = new RelayFailureAlerts((a) => sent.push(a), () => new Date(t), 100);
    const failure = (n: number) => ({ ledgerId: `gw_${n}`, falRequestId: `fal_${n}`, keyId: n < 3 ? 'key_a' : 'key_b', attempts: 10, error: 'receiver answered 503 after 10 attempts' });
    coalescer.failed(failure(1));
    t += 10;
    coalescer.failed(failure(2));
    coalescer.failed(failure(3));
    expect(sent).toHaveLength(1);
    expect(sent[0]?.details).toMatchObject({ failures: 1, key_id: 'key_a', ledger_id: 'gw_1' });
    t += 100;
    await new Promise((r) => setTimeout(r, 150));
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ kind: 'webhook_relay_failed', details: { failures: 2, key_id: null, ledger_id: 'gw_3' } });
    expect(sent[1]?.summary).toContain('key_a, key_b');
    // The summary opened a new window: a failure right after is held, not sent.
    coalescer.failed(failure(4));
    expect(sent).toHaveLength(2);
    coalescer.close();
  });
});
