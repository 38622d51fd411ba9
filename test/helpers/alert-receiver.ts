/**
 * The operator's side of alert webhooks, as the README's receiver example does it: a loopback HTTP
 * server that verifies x-gateway-signature (HMAC-SHA256 over "<t>.<raw body>", compared in constant
 * time, timestamp within 5 minutes) and records what it accepted. It can answer 500 to the first
 * `failFirst` deliveries, to exercise the gateway's retries.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AlertReceiver {
  url: string;
  /** Parsed bodies of the deliveries whose signature verified. */
  accepted: Record<string, unknown>[];
  /** Every delivery attempt, answered 2xx or not. */
  attempts: number;
  /** Deliveries refused for a bad or missing signature. */
  forged: number;
  close(): Promise<void>;
}

export function verifySignature(secret: string, header: string | undefined, rawBody: string, nowSec: number): boolean {
  const parts = new Map((header ?? '').split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || Math.abs(nowSec - t) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  const given = Buffer.from(v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startAlertReceiver(secret: string, opts: { failFirst?: number } = {}): Promise<AlertReceiver> {
  let failLeft = opts.failFirst ?? 0;
  const state = { accepted: [] as Record<string, unknown>[], attempts: 0, forged: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.attempts++;
      const raw = Buffer.concat(chunks).toString('utf8');
      if (failLeft > 0) {
        failLeft--;
        res.writeHead(500).end();
        return;
      }
      const sig = req.headers['x-gateway-signature'];
      if (!verifySignature(secret, typeof sig === 'string' ? sig : undefined, raw, Math.floor(Date.now() / 1000))) {
        state.forged++;
        res.writeHead(401).end();
        return;
      }
      state.accepted.push(JSON.parse(raw) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    get accepted() {
      return state.accepted;
    },
    get attempts() {
      return state.attempts;
    },
    get forged() {
      return state.forged;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Waits until `check` holds (a loaded machine: wide margins), else fails with `what`. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
