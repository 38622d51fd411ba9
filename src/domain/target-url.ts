/**
 * Strict parser for `x-fal-target-url`, the header `@fal-ai/client`'s `proxyUrl` mode uses to name the
 * real fal URL (docs/fal-protocol.md §3.1, docs/design.md §1.2). It is the gateway's SSRF boundary
 * (docs/reliability.md B4 "API7 SSRF"): fal's own proxy went from `indexOf('fal.ai')` to a host regex
 * to a glob allowlist that still ignores the scheme, and reverse proxies keep shipping path escapes
 * (GHSA-2q7r-29rg-6m5h: `%2E%2E`). So this is an exact allowlist, not a pattern.
 *
 * The raw string is checked before WHATWG parsing and the parse is compared with it afterwards,
 * because `new URL` silently normalises the tricks that matter: `..` and `%2e%2e` segments, `:443`,
 * percent-encoded or ideographic-dot hosts, backslashes, and stripped tabs/newlines.
 *
 * The decision carries only an origin tag and an `Operation`, never a piece of the header: the caller
 * composes the upstream URL from configured origins and fixed paths, so nothing the client wrote
 * beyond the parsed values (request id, logs flag, webhook, queue length) can reach fal.
 */
import { MODEL_PATH, REQUESTS_PREFIX } from './model.js';
import { REQUEST_ID_PATTERN, parseLogsFlag, type Operation } from './operation.js';

export type TargetOrigin = 'run' | 'queue';

export type TargetDecision =
  | { ok: true; origin: TargetOrigin; op: Operation }
  /** `reason` is a fixed phrase: it never quotes the header, so it is safe to show a client. */
  | { ok: false; reason: string };

/** Legitimate targets are under ~1 KB even with an encoded webhook; longer is abuse or a mistake. */
export const MAX_TARGET_URL_LENGTH = 2048;

/** Upper bound for `fal_max_queue_length`; fal documents no limit, this only keeps the number sane. */
export const MAX_QUEUE_LENGTH_LIMIT = 1_000_000;

/** A Map, not an object literal, so `constructor` or `__proto__` can never look like a known host. */
const HOSTS: ReadonlyMap<string, TargetOrigin> = new Map([
  ['fal.run', 'run'],
  ['queue.fal.run', 'queue'],
]);

const SCHEME = 'https://';

/** Printable ASCII minus space and `\`: WHATWG drops tabs/newlines and reads `\` as `/` in https URLs. */
const RAW_CHARS = /^[\x21-\x5b\x5d-\x7e]+$/;

/**
 * RFC 3986 query characters without `;` (old-style separators), `'` (WHATWG re-encodes it, so the
 * parse would disagree with the raw string) and `#` (fragments are refused outright).
 */
const QUERY_CHARS = /^[A-Za-z0-9\-._~!$&()*+,=:@/?%]*$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
const POSITIVE_INT = /^[1-9][0-9]{0,6}$/;
const LOGS_VALUES: ReadonlySet<string> = new Set(['0', '1', 'true', 'false']);

const refuse = (reason: string): TargetDecision => ({ ok: false, reason });
const accept = (origin: TargetOrigin, op: Operation): TargetDecision => ({ ok: true, origin, op });

type Query = { ok: true; params: ReadonlyMap<string, string> } | { ok: false; reason: string };

/**
 * Decides whether `header` names one of the few fal URLs this gateway mirrors, called with `method`.
 * Accepts exactly: POST fal.run model (run); POST queue model (submit, `fal_webhook`,
 * `fal_max_queue_length`); GET `/requests/{id}/status[/stream]` (`logs`); GET `/requests/{id}[/response]`;
 * PUT `/requests/{id}/cancel`. Everything else, OPTIONS included, is refused.
 */
export function parseTargetUrl(header: string | string[] | undefined, method: string): TargetDecision {
  if (header === undefined) return refuse('missing x-fal-target-url header');
  if (Array.isArray(header)) return refuse('x-fal-target-url header sent more than once');
  if (header.length === 0) return refuse('empty x-fal-target-url header');
  if (header.length > MAX_TARGET_URL_LENGTH) return refuse('x-fal-target-url is too long');
  if (!RAW_CHARS.test(header)) {
    return refuse('x-fal-target-url contains whitespace, control, backslash or non-ASCII characters');
  }
  if (header.slice(0, SCHEME.length).toLowerCase() !== SCHEME) return refuse('target must be an https URL');
  if (header.includes('#')) return refuse('target must not have a fragment');

  const rest = header.slice(SCHEME.length);
  const pathStart = rest.search(/[/?]/);
  const authority = pathStart === -1 ? rest : rest.slice(0, pathStart);
  if (authority.includes('@')) return refuse('target must not carry userinfo');
  if (/^[^[\]]*:/.test(authority)) return refuse('target must not name a port');
  const host = authority.toLowerCase();
  const origin = HOSTS.get(host);
  if (origin === undefined) return refuse('target host is not allowed');

  const tail = pathStart === -1 ? '' : rest.slice(pathStart);
  if (!tail.startsWith('/')) return refuse('target has no path');
  const queryStart = tail.indexOf('?');
  const path = queryStart === -1 ? tail : tail.slice(0, queryStart);
  const query = queryStart === -1 ? null : tail.slice(queryStart + 1);
  const pathProblem = checkPath(path);
  if (pathProblem !== null) return refuse(pathProblem);

  if (!sameAfterParsing(header, host, path, query)) return refuse('target URL is ambiguous');

  const verb = /^[A-Za-z]{1,16}$/.test(method) ? method.toUpperCase() : '';
  return origin === 'run' ? decideRun(path, query, verb) : decideQueue(path, query, verb);
}

/** Legitimate paths are plain segments; any encoding, dot segment or empty segment is an attack. */
function checkPath(path: string): string | null {
  if (path.includes('%')) return 'target path must not be percent-encoded';
  if (path.includes(';')) return 'target path must not have parameters';
  const segments = path.split('/').slice(1);
  if (segments.some((s) => s === '.' || s === '..')) return 'target path must not have dot segments';
  if (segments.some((s) => s === '')) return 'target path must not have empty segments';
  return null;
}

/** WHATWG must read the same host, path and query we read, with no port, userinfo or fragment. */
function sameAfterParsing(header: string, host: string, path: string, query: string | null): boolean {
  let url: URL;
  try {
    url = new URL(header);
  } catch {
    return false;
  }
  return (
    url.protocol === 'https:' &&
    url.username === '' &&
    url.password === '' &&
    url.host === host &&
    url.port === '' &&
    url.pathname === path &&
    url.search === (query === null ? '' : `?${query}`) &&
    url.hash === ''
  );
}

function decideRun(path: string, query: string | null, verb: string): TargetDecision {
  if (path !== MODEL_PATH) return refuse('target path is not allowed on fal.run');
  if (query !== null) return refuse('run target takes no query');
  if (verb !== 'POST') return refuse('method not allowed for this target');
  return accept('run', { kind: 'run' });
}

function decideQueue(path: string, query: string | null, verb: string): TargetDecision {
  if (path === MODEL_PATH) return decideSubmit(query, verb);
  if (!path.startsWith(`${REQUESTS_PREFIX}/`)) return refuse('target path is not allowed on queue.fal.run');
  const [requestId, ...suffix] = path.slice(REQUESTS_PREFIX.length + 1).split('/');
  if (requestId === undefined || !REQUEST_ID_PATTERN.test(requestId)) return refuse('request id is not valid');

  switch (suffix.join('/')) {
    case '':
    case 'response':
      // fal's SDKs use the bare form; its queue doc's `response_url` ends in `/response` (§2.3).
      if (verb !== 'GET') return refuse('method not allowed for this target');
      if (query !== null) return refuse('result target takes no query');
      return accept('queue', { kind: 'result', requestId });
    case 'status':
    case 'status/stream': {
      if (verb !== 'GET') return refuse('method not allowed for this target');
      const parsed = parseQuery(query, ['logs']);
      if (!parsed.ok) return parsed;
      const raw = parsed.params.get('logs');
      const logs = raw === undefined ? false : LOGS_VALUES.has(raw) ? parseLogsFlag(raw) : null;
      if (logs === null) return refuse('logs must be 0, 1, true or false');
      const kind = suffix.length === 1 ? 'status' : 'stream';
      return accept('queue', { kind, requestId, logs });
    }
    case 'cancel':
      if (verb !== 'PUT') return refuse('method not allowed for this target');
      if (query !== null) return refuse('cancel target takes no query');
      return accept('queue', { kind: 'cancel', requestId });
    default:
      return refuse('target path is not allowed on queue.fal.run');
  }
}

/** Submit: the webhook is only decoded here; whether it may be used is decided by the key's policy. */
function decideSubmit(query: string | null, verb: string): TargetDecision {
  if (verb !== 'POST') return refuse('method not allowed for this target');
  const parsed = parseQuery(query, ['fal_webhook', 'fal_max_queue_length']);
  if (!parsed.ok) return parsed;
  const webhook = parsed.params.get('fal_webhook');
  if (webhook === '') return refuse('fal_webhook must not be empty');
  const maxRaw = parsed.params.get('fal_max_queue_length');
  if (maxRaw !== undefined && !(POSITIVE_INT.test(maxRaw) && Number(maxRaw) <= MAX_QUEUE_LENGTH_LIMIT)) {
    return refuse('fal_max_queue_length must be an integer from 1 to 1000000');
  }
  return accept('queue', {
    kind: 'submit',
    webhook: webhook ?? null,
    maxQueueLength: maxRaw === undefined ? null : Number(maxRaw),
  });
}

/**
 * `key=value` pairs joined by `&`, as `URLSearchParams#toString` writes them (which is what fal-js's
 * `buildUrl` uses): keys must be spelled literally, each at most once; values are form-decoded
 * (`+` is a space) and malformed percent-encoding is refused rather than passed through.
 */
function parseQuery(query: string | null, allowed: readonly string[]): Query {
  const params = new Map<string, string>();
  if (query === null) return { ok: true, params };
  if (query === '') return { ok: false, reason: 'target has an empty query' };
  if (!QUERY_CHARS.test(query) || BAD_PERCENT.test(query)) {
    return { ok: false, reason: 'target query has unexpected characters' };
  }
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq === -1 ? pair : pair.slice(0, eq);
    if (eq === -1 || !allowed.includes(key)) return { ok: false, reason: 'query parameter not allowed for this target' };
    if (params.has(key)) return { ok: false, reason: 'query parameter repeated' };
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(eq + 1).replaceAll('+', ' '));
    } catch {
      return { ok: false, reason: 'target query has malformed percent-encoding' };
    }
    params.set(key, value);
  }
  return { ok: true, params };
}
