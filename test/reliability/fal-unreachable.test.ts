/**
 * Issue #9 item 13, the one fault where nothing left the gateway: fal refuses the connection. Every
 * operation × door answers 502 `upstream_unreachable` (a retry is safe and fal's clients make it),
 * the reservation is released as `not_sent`, and nothing is charged (failure-contract.md).
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ledgerOf, post } from './observe.js';
import type { Door, Op } from './wire-fault-rows.js';

/** A loopback port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 1));
    });
  });
}

describe('fal refuses the connection', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    gw = await startTestGateway({ upstreamUrls: { run: dead, queue: dead }, env: { LOG_LEVEL: 'warn' } });
  });
  afterAll(() => gw.close());

  const combos: { op: Op; door: Door }[] = [
    { op: 'run', door: 'host' },
    { op: 'run', door: 'proxy' },
    { op: 'submit', door: 'host' },
    { op: 'submit', door: 'proxy' },
  ];
  it.each(combos)('$op through $door: 502 upstream_unreachable, released not_sent, nothing charged', async ({ op, door }) => {
    const { id, key } = await gw.createKey({ name: `${op}-${door}` });
    const a = await post(gw.url, key, op, door, { prompt: 'unreachable', image_size: 'square' }, `unreachable-${op}-${door}`);
    expect(a.status, a.body).toBe(502);
    expect(a.errorType).toBe('upstream_unreachable');
    const ledger = await ledgerOf(gw.stores, id, a.gatewayId);
    expect(ledger).toMatchObject({ spentMicro: 0, reservedMicro: 0, requests: 0 });
    expect(ledger.row).toMatchObject({ state: 'released', outcome: 'not_sent' });
  });
});
