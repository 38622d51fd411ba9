/**
 * Reading fal's sync answer before the status line is sent (issue #9, item 2). A client that sees
 * `200` and then a broken transfer retries the POST and pays again, so a body that fits in
 * SYNC_BUFFER_BYTES (every answer with image URLs, i.e. without `sync_mode`) is read whole first:
 * if it breaks, the client gets a complete, non-retryable 500 instead. A larger body (`sync_mode`
 * data URIs, megabytes) is streamed once the buffer is full, so memory per request stays bounded;
 * if that breaks mid-way the client sees a broken transfer (README, Errors).
 */
import { PassThrough, pipeline, type Readable } from 'node:stream';

/** Bytes buffered per sync answer before streaming starts: a URL answer is ~1 KB per image. */
export const SYNC_BUFFER_BYTES = 64 * 1024;

export type SyncBody =
  | { kind: 'complete'; bytes: Buffer }
  /** Over the buffer: the bytes read so far followed by the rest, already flowing into `stream`. */
  | { kind: 'streamed'; stream: Readable }
  | { kind: 'broken'; err: unknown };

export function readSyncBody(body: Readable, limit = SYNC_BUFFER_BYTES): Promise<SyncBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: SyncBody) => {
      body.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size <= limit) return;
      body.pause();
      done({ kind: 'streamed', stream: continueStream(chunks, body) });
    };
    const onEnd = () => done({ kind: 'complete', bytes: Buffer.concat(chunks, size) });
    const onError = (err: unknown) => done({ kind: 'broken', err });
    const onClose = () => done({ kind: 'broken', err: new Error('fal closed the answer before its end') });
    body.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

function continueStream(head: Buffer[], rest: Readable): Readable {
  const out = new PassThrough();
  // The reply attaches its own listeners only after the settlement is written; an error meanwhile
  // must not be an unhandled 'error' event (the reply still sees the stream as errored).
  out.on('error', () => undefined);
  for (const chunk of head) out.write(chunk);
  // pipeline, not pipe: a source that closes early (reset) must destroy `out`, never leave it open.
  pipeline(rest, out, () => undefined);
  return out;
}
