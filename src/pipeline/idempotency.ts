/**
 * `Idempotency-Key` on sync runs and queue submits (Stripe-style, docs/reliability.md B3). The key is
 * unique per gateway key in the ledger, so the reservation row doubles as the idempotency record:
 * a repeat with the same request within 24 h gets the first outcome replayed (no second fal call,
 * no second charge); the same key with a different request is 422; a repeat while the first is
 * still running is 409. A first attempt that never left (released `not_sent`) frees its key: the
 * repeat goes through as a new attempt. Keys are scoped per operation (run, submit).
 */
import { createHash } from 'node:crypto';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, ValidationRefusal } from '../errors.js';
import type { LedgerOperation, LedgerRow, StoredResponse } from '../store/ledger-store.js';
import type { PipelineContext } from './context.js';
import { replayBuffers, type ByteBudget } from './memory-bounds.js';

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

/**
 * The key as stored: scoped per operation, so a sync run and a queue submit under the same
 * Idempotency-Key are two requests (a submit must never replay a sync body, nor the reverse).
 */
export function scopedIdempotencyKey(operation: LedgerOperation, key: string): string {
  return `${operation}:${key}`;
}

/**
 * The request's fingerprint: the body, plus for a submit the fal query parameters that change what
 * fal does with it (`fal_webhook`, `fal_max_queue_length`, canonical as forwarded). Length-prefixed
 * so no body/query split can collide with another.
 */
export function bodyHash(raw: Buffer, falQuery = ''): string {
  return createHash('sha256').update(`${raw.length}:`).update(raw).update(falQuery).digest('hex');
}

/** A refusal no fal client retries (422 in fal's validation shape), about the Idempotency-Key header. */
function keyRefusal(type: string, msg: string): ValidationRefusal {
  return new ValidationRefusal([{ loc: ['header', 'idempotency-key'], msg, type }]);
}

/**
 * Answers a repeat of an idempotent request from its first attempt's row: the stored answer, or a
 * refusal. Only "still in progress" is 409 (the client should retry, and both fal clients do); a
 * reused key and an answer that cannot be replayed are 422, which neither client retries: a retry
 * could never succeed, and for a first attempt fal may have run, a new one would pay twice.
 */
export async function replay(ctx: PipelineContext, existing: LedgerRow, hash: string, reply: FastifyReply): Promise<FastifyReply> {
  if (existing.bodyHash !== hash) {
    throw keyRefusal('idempotency_key_reused', 'This Idempotency-Key was already used with a different request; use a new key for a new request');
  }
  const stored = await ctx.stores.idempotency.getResponse(existing.id);
  if (stored) {
    reply.request.facts.falRequestId = existing.falRequestId ?? undefined;
    return reply.code(stored.statusCode).headers({ ...stored.headers, 'idempotent-replayed': 'true' }).send(stored.body);
  }
  if (existing.state === 'reserved') {
    throw new GatewayError('conflict', 'A request with this Idempotency-Key is still in progress; retry later');
  }
  throw keyRefusal('idempotency_key_not_replayable', `The first request with this Idempotency-Key finished (${existing.outcome ?? existing.state}) but its answer cannot be replayed`);
}

/** Saves a small answer (queue submit, errors) for replay. */
export async function remember(ctx: PipelineContext, ledgerId: string, response: StoredResponse): Promise<void> {
  await ctx.stores.idempotency.saveResponse(ledgerId, response, ctx.now().toISOString());
}

/**
 * Tees a streamed answer: the client gets every chunk as it arrives; a copy (up to 16 MiB) is
 * saved for replay once the stream ends cleanly. A body that already failed (it may have broken
 * while the settlement was written) gives an output that fails at once, never one that hangs.
 * Copies in flight share one process-wide byte allowance (`budget`, 64 MiB by default:
 * memory-bounds.ts); a copy that does not fit is dropped and its key's repeats get the "not
 * replayable" 422, as for a body over 16 MiB.
 */
export function teeForReplay(ctx: PipelineContext, ledgerId: string, statusCode: number, headers: Record<string, string>, body: Readable, log: FastifyRequest['log'], budget: ByteBudget = replayBuffers): Readable {
  const out = new PassThrough();
  let chunks: Buffer[] = [];
  let size = 0;
  let held = 0; // bytes taken from `budget`, given back once the copy is saved or dropped
  let keep = true;
  const release = (): void => {
    budget.give(held);
    held = 0;
  };
  body.on('data', (c: Buffer) => {
    size += c.length;
    if (!keep) return;
    if (size <= MAX_STORED_BODY && budget.tryTake(c.length)) {
      held += c.length;
      chunks.push(c);
      return;
    }
    if (size <= MAX_STORED_BODY) log.warn({ ledgerId }, 'idempotent answer not stored: replay buffers are full');
    keep = false;
    chunks = [];
    release();
  });
  body.on('end', () => {
    if (!keep) return;
    keep = false;
    const copy = Buffer.concat(chunks);
    chunks = [];
    remember(ctx, ledgerId, { statusCode, headers, body: copy })
      .catch((err: unknown) => log.warn({ err }, 'idempotent answer not stored'))
      .finally(release);
  });
  // A body that fails or is destroyed before its end stores nothing: give its bytes back.
  body.on('close', () => {
    if (!keep) return;
    keep = false;
    chunks = [];
    release();
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
