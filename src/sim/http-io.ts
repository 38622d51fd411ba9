/** Small node:http helpers the sim routes share: bodies, replies, auth and cancellable waits. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { SimReply } from './fal-replies.js';

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The request body, or undefined when it exceeds MAX_BODY_BYTES. An oversized body is drained,
 * not destroyed, so the socket survives to carry the 413.
 */
export function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.once('end', () => resolve(size <= MAX_BODY_BYTES ? Buffer.concat(chunks) : undefined));
    req.once('error', reject);
  });
}

export function sendReply(res: ServerResponse, r: SimReply): void {
  sendBody(res, r.status, r.body, r.headers);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendBody(res, status, JSON.stringify(body), headers);
}

function sendBody(res: ServerResponse, status: number, json: string, headers: Record<string, string>): void {
  if (res.destroyed) return;
  const bytes = Buffer.from(json, 'utf8');
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': String(bytes.length) });
  res.end(bytes);
}

/**
 * The "reset" fault: status, headers (with the full content-length) and half the body go out,
 * then the socket is destroyed, as when a connection breaks mid-response.
 */
export function sendTruncated(res: ServerResponse, r: SimReply): void {
  if (res.destroyed) return;
  const bytes = Buffer.from(r.body, 'utf8');
  res.writeHead(r.status, { ...r.headers, 'content-type': 'application/json', 'content-length': String(bytes.length) });
  res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.destroy());
}

/** The "reset before headers" fault: the connection breaks before any status line goes out. */
export function sendNothing(res: ServerResponse): void {
  res.socket?.resetAndDestroy();
  res.destroy();
}

/** A 2xx whose body is not JSON (a proxy's page, a truncated write): `[sim:garbage]`. */
export function sendGarbage(res: ServerResponse, status: number, headers: Record<string, string>): void {
  if (res.destroyed) return;
  const bytes = Buffer.from('<html><body>upstream sent no valid answer</body></html>', 'utf8');
  res.writeHead(status, { ...headers, 'content-type': 'text/html', 'content-length': String(bytes.length) });
  res.end(bytes);
}

/** `Authorization: Key <falKey>`, compared in constant time (hashing equalises lengths). */
export function hasFalKey(req: IncomingMessage, falKey: string): boolean {
  const header = req.headers.authorization;
  if (header === undefined) return false;
  return timingSafeEqual(sha256(header), sha256(`Key ${falKey}`));
}

/** Waits `ms`; false if the sim closed meanwhile (the caller then answers nothing). */
export async function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** `logs=1|true` turns logs on (JS sends 0/1, Python true/false; docs/fal-protocol.md §2.3). */
export function wantsLogs(url: URL): boolean {
  const v = url.searchParams.get('logs');
  return v === '1' || v === 'true';
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
