/**
 * /webhooks/fal decides what it can from the headers before reading a body of up to 16 MiB: no
 * signature headers, a signature that is not 128 hex characters or a timestamp outside the 300 s
 * window is answered 401 while the body is still unsent, and so is (503, Retry-After) a delivery
 * beyond the cap of deliveries in flight. Each such answer closes the connection.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_DELIVERIES_IN_FLIGHT } from '../../src/webhooks/gateway-webhooks.js';
import { scrape, sum } from '../helpers/prometheus.js';
import { startRig, eventually, type Rig } from './harness.js';

let rig: Rig | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await rig?.close();
  rig = undefined;
});

interface Opened {
  socket: Socket;
  /** The status line, headers and whatever body arrived, once the answer's head is in. */
  answer: Promise<{ status: number; headers: Record<string, string>; body: string }>;
  closed: Promise<void>;
}

/**
 * A POST over a raw socket that declares `contentLength` bytes of body and sends only `sent` of
 * them, so an answer can only come from what the gateway decided before reading the rest.
 */
function openDelivery(baseUrl: string, headers: Record<string, string>, contentLength: number, sent = 0): Opened {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect(Number(port), hostname);
  sockets.push(socket);
  const head = [
    'POST /webhooks/fal HTTP/1.1',
    `host: ${hostname}:${port}`,
    'content-type: application/json',
    `content-length: ${contentLength}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ].join('\r\n');
  socket.write(`${head}\r\n\r\n`);
  if (sent > 0) socket.write(Buffer.alloc(sent, 0x20));
  let received = '';
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const answer = new Promise<{ status: number; headers: Record<string, string>; body: string }>((resolve, reject) => {
    const settle = (): void => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine = '', ...lines] = received.slice(0, end).split('\r\n');
      const fields = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const length = Number(fields['content-length'] ?? 0);
      const body = received.slice(end + 4);
      if (body.length < length) return;
      resolve({ status: Number(statusLine.split(' ')[1]), headers: fields, body });
    };
    socket.on('data', (c: Buffer) => {
      received += c.toString('utf8');
      settle();
    });
    socket.on('close', () => reject(new Error(`closed without a whole answer: ${JSON.stringify(received.slice(0, 200))}`)));
    socket.on('error', () => undefined);
  });
  answer.catch(() => undefined);
  return { socket, answer, closed };
}

const nowS = (): string => String(Math.floor(Date.now() / 1000));
/** Headers that pass every check possible before the body (the signature itself cannot be checked yet). */
const plausible = (): Record<string, string> => ({
  'x-fal-webhook-request-id': 'req-plausible',
  'x-fal-webhook-user-id': 'user-1',
  'x-fal-webhook-timestamp': nowS(),
  'x-fal-webhook-signature': 'ab'.repeat(64),
});
const SIXTEEN_MIB = 16 * 1024 * 1024;

function gatewayUrl(r: Rig): string {
  const g = r.gateways[0];
  if (g === undefined) throw new Error('no gateway');
  return g.url;
}

describe('deliveries refused before their body is read', () => {
  it.each([
    ['no signature headers', {}, 'missing_headers'],
    ['a signature that is not 128 hex characters', { ...plausible(), 'x-fal-webhook-signature': 'zz'.repeat(64) }, 'bad_signature'],
    ['a short signature', { ...plausible(), 'x-fal-webhook-signature': 'ab'.repeat(32) }, 'bad_signature'],
    ['a timestamp 400 s old', { ...plausible(), 'x-fal-webhook-timestamp': String(Math.floor(Date.now() / 1000) - 400) }, 'stale_timestamp'],
  ])('%s: 401 while the 16 MiB body is still unsent, and the connection is closed', async (_what, headers: Record<string, string>, reason) => {
    rig = await startRig();
    const opened = openDelivery(gatewayUrl(rig), headers, SIXTEEN_MIB);
    const answer = await opened.answer;
    expect(answer.status).toBe(401);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body)).toMatchObject({ error_type: 'unauthorized' });
    await opened.closed;
    const samples = await scrape(gatewayUrl(rig));
    expect(sum(samples, 'gateway_webhook_deliveries_total', { outcome: 'refused', reason })).toBe(1);
  });

  it(`answers 503 with Retry-After beyond ${MAX_DELIVERIES_IN_FLIGHT} deliveries in flight, before the body, and admits again once one ends`, async () => {
    rig = await startRig();
    const url = gatewayUrl(rig);
    // Deliveries whose bodies are still arriving: each holds a slot.
    const holders = Array.from({ length: MAX_DELIVERIES_IN_FLIGHT }, () => openDelivery(url, plausible(), 1024 * 1024, 10));
    // A plausible delivery with an empty body is admitted, checked and refused (401) while a slot is
    // free; once every holder is admitted it is answered 503 without being admitted.
    const probe = async (): Promise<number> => (await openDelivery(url, plausible(), 0).answer).status;
    await eventually(async () => (await probe()) === 503, 'every slot held');
    const refused = openDelivery(url, plausible(), SIXTEEN_MIB);
    const answer = await refused.answer;
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('5');
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body)).toMatchObject({ error_type: 'service_unavailable' });
    await refused.closed;
    expect(sum(await scrape(url), 'gateway_webhook_deliveries_total', { outcome: 'refused', reason: 'overloaded' })).toBeGreaterThanOrEqual(2);

    // A sender that goes away frees its slot: the next delivery is admitted (and refused on its signature).
    holders[0]?.socket.destroy();
    await eventually(async () => (await probe()) === 401, 'a freed slot');
    // Holders still waiting for their bodies are not answered by any of this.
    for (const h of holders.slice(1)) expect(h.socket.destroyed).toBe(false);
  });
});
