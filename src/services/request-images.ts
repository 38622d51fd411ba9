/**
 * The images a queue request produced, for the console's thumbnails (`GET /admin/requests/:id/images`).
 * The ledger keeps no output; fal keeps a queue job's result, and reading it costs nothing (fal
 * bills generation, not result fetches: docs/fal-protocol.md §4), so the gateway asks fal with
 * FAL_KEY when an operator looks. Only http(s) URLs leave: a `sync_mode` result inlines its images
 * as data URIs (megabytes of base64), which are neither read past a bound nor passed on. A sync run
 * has no stored result at fal, so it has no images here.
 *
 * Answers are kept for a few minutes per reader (a job's result does not change), bounded in entries.
 */
import { LRUCache } from 'lru-cache';
import { REQUESTS_PREFIX } from '../domain/model.js';
import { GatewayError } from '../errors.js';
import type { PipelineContext } from '../pipeline/context.js';
import type { RequestImages } from './request-images-view.js';

export type { RequestImages };


/** A result with its images inlined is this large or more; a URL-only result is a few kB. */
const MAX_RESULT_BYTES = 256 * 1024;
const MAX_URL_LENGTH = 2048;

function httpUrl(v: unknown): string | null {
  if (typeof v !== 'string' || v.length > MAX_URL_LENGTH) return null;
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.toString() : null;
  } catch {
    return null;
  }
}

const dim = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null);

/** The http(s) images of a result body; `inline` when it holds images but none by URL. */
export function imagesOf(body: unknown): { images: RequestImages['images']; inline: boolean } {
  const list = typeof body === 'object' && body !== null ? (body as { images?: unknown }).images : undefined;
  if (!Array.isArray(list)) return { images: [], inline: false };
  const images: RequestImages['images'] = [];
  for (const item of list.slice(0, 8)) {
    if (typeof item !== 'object' || item === null) continue;
    const o = item as Record<string, unknown>;
    const url = httpUrl(o.url);
    if (url !== null) images.push({ url, width: dim(o.width), height: dim(o.height), content_type: typeof o.content_type === 'string' ? o.content_type.slice(0, 100) : null });
  }
  return { images, inline: images.length === 0 && list.length > 0 };
}

export class RequestImagesReader {
  private readonly cache = new LRUCache<string, RequestImages>({ max: 1_000, ttl: 5 * 60_000 });
  constructor(private readonly ctx: PipelineContext) {}

  async read(ledgerId: string): Promise<RequestImages> {
    const ctx = this.ctx;
    const row = await ctx.stores.ledger.get(ledgerId);
    if (row === null) throw new GatewayError('not_found', 'No such request');
    const base = { ledger_id: row.id, fal_request_id: row.falRequestId, images: [] };
    if (row.operation === 'run') return { ...base, status: 'sync_run' };
    if (row.falRequestId === null) return { ...base, status: 'no_fal_request' };
    const cached = this.cache.get(row.falRequestId);
    if (cached) return cached;

    let res;
    try {
      res = await ctx.upstream.request({
        origin: 'queue',
        method: 'GET',
        path: `${REQUESTS_PREFIX}/${encodeURIComponent(row.falRequestId)}`,
        headers: { accept: 'application/json' },
        timeoutMs: ctx.config.pollTimeoutMs,
      });
    } catch {
      return { ...base, status: 'unavailable' };
    }
    if (res.statusCode === 400) {
      await res.body.dump();
      return { ...base, status: 'not_ready' };
    }
    if (res.statusCode === 404 || res.statusCode === 410) {
      await res.body.dump();
      return { ...base, status: 'expired' };
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump();
      return { ...base, status: 'unavailable' };
    }
    // fal's bill is in these headers: a row still open settles from them, as a client's fetch would.
    if (row.state === 'reserved') await ctx.settler.onResult(row.falRequestId, res.statusCode, res.headers);
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_RESULT_BYTES) {
      await res.body.dump({ limit: 0 }).catch(() => undefined);
      return this.remember(row.falRequestId, { ...base, status: 'inline' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        chunks.push(chunk as Buffer);
        size += (chunk as Buffer).length;
        if (size > MAX_RESULT_BYTES) {
          res.body.destroy();
          return this.remember(row.falRequestId, { ...base, status: 'inline' });
        }
      }
    } catch {
      return { ...base, status: 'unavailable' };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return { ...base, status: 'unavailable' };
    }
    const { images, inline } = imagesOf(parsed);
    return this.remember(row.falRequestId, { ...base, status: inline ? 'inline' : 'ok', images });
  }

  private remember(falRequestId: string, v: RequestImages): RequestImages {
    this.cache.set(falRequestId, v);
    return v;
  }
}
