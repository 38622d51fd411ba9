/**
 * `Idempotency-Key` on sync runs and queue submits (Stripe-style, perf-reliability.md B3). The key is
 * unique per gateway key in the ledger, so the reservation row doubles as the idempotency record:
 * a repeat with the same body within 24 h gets the first outcome replayed (no second fal call, no
 * second charge); the same key with a different body is 409; a repeat while the first is still
 * running is 409 too.
 */
import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';
import type { LedgerRow, StoredResponse } from '../store/ledger-store.js';
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
 * saved for replay once the stream ends cleanly. Copies in flight share one process-wide byte
 * allowance (`budget`, 64 MiB by default: memory-bounds.ts); a copy that does not fit is dropped
 * and its key's repeats get the "not replayable" 409, as for a body over 16 MiB.
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
  body.on('error', (err) => out.destroy(err));
  body.pipe(out);
  return out;
}
