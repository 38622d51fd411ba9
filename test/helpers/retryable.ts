/**
 * Would fal's official clients retry this answer on their own? A retried POST that fal may already
 * have run is a second generation and a second charge, so the failure matrix asserts on this.
 *
 * - @fal-ai/client (node_modules/@fal-ai/client/src/retry.js, queue.js): run and submit retry
 *   429/502/503/504 and transport errors (reset, refused, cut body, socket/headers/body timeouts),
 *   except a 504 carrying `x-fal-request-timeout-type: user`; status calls also retry 500.
 * - Python fal_client (docs/fal-protocol.md §2.8): every POST retries transport
 *   errors and client timeouts, 408, 409 and 429 whatever the body, and 502/503/504 only when the
 *   answer looks like an ingress page (no `x-fal-request-id` and "nginx" in the body).
 */

/** What a client saw: a complete HTTP answer, or a transport failure (reset, refused, cut body). */
export type ClientAnswer =
  | { kind: 'http'; status: number; headers?: Record<string, string | undefined>; body?: string }
  | { kind: 'transport' };

/** `post`: run or submit (a call that may start a paid generation); `status`: a queue status poll. */
export type CallKind = 'post' | 'status';

export interface RetriedBy {
  js: boolean;
  python: boolean;
}

const JS_RETRY = [429, 502, 503, 504];
const PY_RETRY_ALWAYS = [408, 409, 429];
const PY_RETRY_IF_INGRESS = [502, 503, 504];

export function retriedBy(answer: ClientAnswer, call: CallKind = 'post'): RetriedBy {
  if (answer.kind === 'transport') return { js: true, python: true };
  const header = (name: string): string | undefined => answer.headers?.[name];
  const jsCodes = call === 'status' ? [...JS_RETRY, 500] : JS_RETRY;
  const userTimeout = answer.status === 504 && header('x-fal-request-timeout-type') === 'user';
  const js = jsCodes.includes(answer.status) && !userTimeout;
  const ingressPage = header('x-fal-request-id') === undefined && (answer.body ?? '').includes('nginx');
  const python = PY_RETRY_ALWAYS.includes(answer.status) || (PY_RETRY_IF_INGRESS.includes(answer.status) && ingressPage);
  return { js, python };
}

/** True when either official client would send the call again by itself. */
export function isRetryable(answer: ClientAnswer, call: CallKind = 'post'): boolean {
  const r = retriedBy(answer, call);
  return r.js || r.python;
}
