/**
 * `Idempotency-Key` on sync runs and queue submits (Stripe-style, perf-reliability.md B3). The key is
 * unique per gateway key in the ledger, so the reservation row doubles as the idempotency record:
 * a repeat with the same body within 24 h gets the first outcome replayed (no second fal call, no
 * second charge); the same key with a different body is 409; a repeat while the first is still
 * running is 409 too.
 */
import { createHash } from 'node:crypto';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';
import type { LedgerRow, StoredResponse } from '../store/ledger-store.js';
import type { PipelineContext } from './context.js';

/** Replays stored beyond this size are not kept (sync_mode bodies can be many MB). */
const MAX_STORED_BODY = 16 * 1024 * 1024;
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The Idempotency-Key header, namespaced by browser token when one is used: keys are unique per
 * gateway key in the ledger, and two tokens of one key must not replay each other's answers.
 */
export function idempotencyKeyOf(request: FastifyRequest, tokenId: string | null): string | null {
  const v = request.headers['idempotency-key'];
  if (v === undefined) return null;
  if (typeof v !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(v)) {
    throw new GatewayError('bad_request', 'Idempotency-Key must be 1 to 255 visible ASCII characters, sent once');
  }
  return tokenId === null ? v : `${tokenId}:${v}`;
}

export function bodyHash(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

export async function replay(ctx: PipelineContext, existing: LedgerRow, hash: string, reply: FastifyReply): Promise<FastifyReply> {
  if (existing.bodyHash !== hash) {
    throw new GatewayError('conflict', 'This Idempotency-Key was already used with a different request body');
  }
  const stored = await ctx.stores.idempotency.getResponse(existing.id);
  if (stored) {
    reply.request.facts.falRequestId = existing.falRequestId ?? undefined;
    return reply.code(stored.statusCode).headers({ ...stored.headers, 'idempotent-replayed': 'true' }).send(stored.body);
  }
  if (existing.state === 'reserved') {
    throw new GatewayError('conflict', 'A request with this Idempotency-Key is still in progress; retry later');
  }
  throw new GatewayError('conflict', `The first request with this Idempotency-Key finished (${existing.outcome ?? existing.state}) but its answer is not replayable`);
}

/** Saves a small answer (queue submit, errors) for replay. */
export async function remember(ctx: PipelineContext, ledgerId: string, response: StoredResponse): Promise<void> {
  await ctx.stores.idempotency.saveResponse(ledgerId, response, ctx.now().toISOString());
}

/**
 * Tees a streamed answer: the client gets every chunk as it arrives; a copy (up to 16 MiB) is
 * saved for replay once the stream ends cleanly. A body that already failed (it may have broken
 * while the settlement was written) gives an output that fails at once, never one that hangs.
 */
export function teeForReplay(ctx: PipelineContext, ledgerId: string, statusCode: number, headers: Record<string, string>, body: Readable, log: FastifyRequest['log']): Readable {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  let size = 0;
  body.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= MAX_STORED_BODY) chunks.push(c);
  });
  body.on('end', () => {
    if (size > MAX_STORED_BODY) return;
    remember(ctx, ledgerId, { statusCode, headers, body: Buffer.concat(chunks) }).catch((err: unknown) => log.warn({ err }, 'idempotent answer not stored'));
  });
  // pipeline also covers a body that errored or closed before this was called (pipe would wait forever).
  pipeline(body, out, (err) => {
    if (err) log.warn({ err }, 'fal answer broke while it was relayed');
  });
  return out;
}

/** remember, for an answer that goes out whether or not it could be stored (the database may be down). */
export async function rememberQuietly(ctx: PipelineContext, request: Pick<FastifyRequest, 'log'>, ledgerId: string, response: StoredResponse): Promise<void> {
  await remember(ctx, ledgerId, response).catch((err: unknown) => request.log.warn({ err }, 'idempotent answer not stored'));
}
