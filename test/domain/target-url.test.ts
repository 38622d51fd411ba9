import { describe, expect, it } from 'vitest';
import { MODEL_PATH, REQUESTS_PREFIX } from '../../src/domain/model.js';
import { REQUEST_ID_PATTERN, type Operation } from '../../src/domain/operation.js';
import { MAX_TARGET_URL_LENGTH, parseTargetUrl, type TargetDecision } from '../../src/domain/target-url.js';

const ID = '5f1c2a3b-7d4e-4f60-9a8b-0c1d2e3f4a5b';
const RUN = `https://fal.run${MODEL_PATH}`;
const QUEUE = `https://queue.fal.run${MODEL_PATH}`;
const REQ = `https://queue.fal.run${REQUESTS_PREFIX}/${ID}`;

type Accepted = [name: string, header: string, method: string, origin: 'run' | 'queue', op: Operation];

const ACCEPTED: Accepted[] = [
  ['run', RUN, 'POST', 'run', { kind: 'run' }],
  ['run with lower-case method', RUN, 'post', 'run', { kind: 'run' }],
  ['run with upper-case scheme and host', `HTTPS://FAL.RUN${MODEL_PATH}`, 'POST', 'run', { kind: 'run' }],
  ['submit', QUEUE, 'POST', 'queue', { kind: 'submit', webhook: null, maxQueueLength: null }],
  ['submit with mixed-case host', `https://Queue.Fal.Run${MODEL_PATH}`, 'Post', 'queue', { kind: 'submit', webhook: null, maxQueueLength: null }],
  [
    'submit with an encoded webhook',
    `${QUEUE}?fal_webhook=https%3A%2F%2Fhooks.example.com%2Ffal%3Fa%3D1%26b%3D2`,
    'POST',
    'queue',
    { kind: 'submit', webhook: 'https://hooks.example.com/fal?a=1&b=2', maxQueueLength: null },
  ],
  [
    'submit with an unencoded webhook',
    `${QUEUE}?fal_webhook=https://hooks.example.com/fal`,
    'POST',
    'queue',
    { kind: 'submit', webhook: 'https://hooks.example.com/fal', maxQueueLength: null },
  ],
  ['submit with a form-encoded space', `${QUEUE}?fal_webhook=a+b`, 'POST', 'queue', { kind: 'submit', webhook: 'a b', maxQueueLength: null }],
  ['submit with max queue length', `${QUEUE}?fal_max_queue_length=25`, 'POST', 'queue', { kind: 'submit', webhook: null, maxQueueLength: 25 }],
  ['submit with max queue length at its bound', `${QUEUE}?fal_max_queue_length=1000000`, 'POST', 'queue', { kind: 'submit', webhook: null, maxQueueLength: 1_000_000 }],
  [
    'submit with webhook and max queue length',
    `${QUEUE}?fal_webhook=https%3A%2F%2Fh.example%2Fx&fal_max_queue_length=1`,
    'POST',
    'queue',
    { kind: 'submit', webhook: 'https://h.example/x', maxQueueLength: 1 },
  ],
  [
    'submit with max queue length before webhook',
    `${QUEUE}?fal_max_queue_length=7&fal_webhook=https%3A%2F%2Fh.example%2Fx`,
    'POST',
    'queue',
    { kind: 'submit', webhook: 'https://h.example/x', maxQueueLength: 7 },
  ],
  ['status without query', `${REQ}/status`, 'GET', 'queue', { kind: 'status', requestId: ID, logs: false }],
  ['status logs=0', `${REQ}/status?logs=0`, 'GET', 'queue', { kind: 'status', requestId: ID, logs: false }],
  ['status logs=1', `${REQ}/status?logs=1`, 'GET', 'queue', { kind: 'status', requestId: ID, logs: true }],
  ['status logs=true', `${REQ}/status?logs=true`, 'get', 'queue', { kind: 'status', requestId: ID, logs: true }],
  ['status logs=false', `${REQ}/status?logs=false`, 'GET', 'queue', { kind: 'status', requestId: ID, logs: false }],
  ['stream without query', `${REQ}/status/stream`, 'GET', 'queue', { kind: 'stream', requestId: ID, logs: false }],
  ['stream logs=0', `${REQ}/status/stream?logs=0`, 'GET', 'queue', { kind: 'stream', requestId: ID, logs: false }],
  ['stream logs=1', `${REQ}/status/stream?logs=1`, 'GET', 'queue', { kind: 'stream', requestId: ID, logs: true }],
  ['stream logs=true', `${REQ}/status/stream?logs=true`, 'GET', 'queue', { kind: 'stream', requestId: ID, logs: true }],
  ['result (SDK form)', REQ, 'GET', 'queue', { kind: 'result', requestId: ID }],
  ['result (/response form)', `${REQ}/response`, 'GET', 'queue', { kind: 'result', requestId: ID }],
  ['cancel', `${REQ}/cancel`, 'PUT', 'queue', { kind: 'cancel', requestId: ID }],
  ['cancel with lower-case method', `${REQ}/cancel`, 'put', 'queue', { kind: 'cancel', requestId: ID }],
  ['a short non-UUID request id', `https://queue.fal.run${REQUESTS_PREFIX}/abc123/status`, 'GET', 'queue', { kind: 'status', requestId: 'abc123', logs: false }],
];

describe('parseTargetUrl: accepted targets', () => {
  it.each(ACCEPTED)('accepts %s', (_name, header, method, origin, op) => {
    expect(parseTargetUrl(header, method)).toEqual({ ok: true, origin, op });
  });

  it('round-trips a webhook encoded the way @fal-ai/client buildUrl encodes it', () => {
    const webhook = 'https://hooks.example.com/fal/cb?user=a b&token=x/y+z~é';
    const header = `${QUEUE}?${new URLSearchParams({ fal_webhook: webhook }).toString()}`;
    expect(parseTargetUrl(header, 'POST')).toEqual({
      ok: true,
      origin: 'queue',
      op: { kind: 'submit', webhook, maxQueueLength: null },
    });
  });

  it('accepts a target exactly at the length limit', () => {
    const prefix = `${QUEUE}?fal_webhook=`;
    const header = prefix + 'w'.repeat(MAX_TARGET_URL_LENGTH - prefix.length);
    expect(header).toHaveLength(MAX_TARGET_URL_LENGTH);
    expect(parseTargetUrl(header, 'POST').ok).toBe(true);
  });
});

type Hostile = [name: string, header: string | string[] | undefined, method: string];

const M = MODEL_PATH;
const HOSTILE: Hostile[] = [
  // missing / malformed header
  ['undefined header', undefined, 'POST'],
  ['empty string', '', 'POST'],
  ['an array (duplicate headers)', [RUN, RUN], 'POST'],
  ['a one-element array', [RUN], 'POST'],
  ['a 5,000-char URL', `${QUEUE}?fal_webhook=${'a'.repeat(5000)}`, 'POST'],
  ['one char over the limit', `${QUEUE}?fal_webhook=${'a'.repeat(MAX_TARGET_URL_LENGTH)}`.slice(0, MAX_TARGET_URL_LENGTH + 1), 'POST'],
  ['not a URL', 'fal-ai/stable-diffusion-v35-medium', 'POST'],
  // other hosts
  ['evil.com', `https://evil.com${M}`, 'POST'],
  ['fal.run.evil.com', `https://fal.run.evil.com${M}`, 'POST'],
  ['queue.fal.run.evil.com', `https://queue.fal.run.evil.com${M}`, 'POST'],
  ['evilfal.run', `https://evilfal.run${M}`, 'POST'],
  ['fal.ai', `https://fal.ai${M}`, 'POST'],
  ['rest.fal.ai storage initiate', 'https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3', 'POST'],
  ['rest.fal.ai tokens', 'https://rest.fal.ai/tokens/', 'POST'],
  ['queue.falrun.com (fal backup host)', `https://queue.falrun.com${M}`, 'POST'],
  ['v3.fal.media', 'https://v3.fal.media/files/x.png', 'GET'],
  ['ws.fal.run', `https://ws.fal.run${M}`, 'POST'],
  ['evil.com with fal.ai in the query', 'https://evil.com/?fal.ai', 'POST'],
  ['evil.com with fal.run in the path', `https://evil.com/fal.run${M}`, 'POST'],
  // userinfo
  ['fal.run@evil.com', `https://fal.run@evil.com${M}`, 'POST'],
  ['evil.com@fal.run', `https://evil.com@fal.run${M}`, 'POST'],
  ['user:pass@fal.run', `https://user:pass@fal.run${M}`, 'POST'],
  ['empty userinfo', `https://@fal.run${M}`, 'POST'],
  ['userinfo on queue host', `https://x@queue.fal.run${M}`, 'POST'],
  ['encoded @ in authority', `https://fal.run%40evil.com${M}`, 'POST'],
  // schemes and relative forms
  ['http:', `http://fal.run${M}`, 'POST'],
  ['http: queue', `http://queue.fal.run${M}`, 'POST'],
  ['ftp:', `ftp://fal.run${M}`, 'POST'],
  ['file:', `file://fal.run${M}`, 'POST'],
  ['javascript:', 'javascript:alert(1)//fal.run', 'POST'],
  ['data:', 'data:text/plain,https://fal.run', 'POST'],
  ['ws:', `ws://fal.run${M}`, 'POST'],
  ['wss:', `wss://fal.run${M}`, 'POST'],
  ['scheme-relative', `//fal.run${M}`, 'POST'],
  ['relative path', M, 'POST'],
  ['relative path without slash', 'fal-ai/stable-diffusion-v35-medium', 'POST'],
  ['https with a single slash', `https:/fal.run${M}`, 'POST'],
  ['https without slashes', `https:fal.run${M}`, 'POST'],
  ['https with three slashes', `https:///fal.run${M}`, 'POST'],
  ['https with a leading space', ` ${RUN}`, 'POST'],
  ['blob:', `blob:https://fal.run${M}`, 'POST'],
  // ports
  [':443', `https://fal.run:443${M}`, 'POST'],
  [':8443', `https://fal.run:8443${M}`, 'POST'],
  [':0', `https://fal.run:0${M}`, 'POST'],
  ['empty port', `https://fal.run:${M}`, 'POST'],
  [':443 on queue', `https://queue.fal.run:443${M}`, 'POST'],
  // IP literals and local names
  ['127.0.0.1', `https://127.0.0.1${M}`, 'POST'],
  ['169.254.169.254', 'https://169.254.169.254/latest/meta-data/', 'GET'],
  ['[::1]', `https://[::1]${M}`, 'POST'],
  ['[::ffff:127.0.0.1]', `https://[::ffff:127.0.0.1]${M}`, 'POST'],
  ['decimal 2130706433', `https://2130706433${M}`, 'POST'],
  ['hex 0x7f000001', `https://0x7f000001${M}`, 'POST'],
  ['octal 0177.0.0.1', `https://0177.0.0.1${M}`, 'POST'],
  ['localhost', `https://localhost${M}`, 'POST'],
  ['localhost.', `https://localhost.${M}`, 'POST'],
  // trailing dot, encodings and lookalikes of the host
  ['trailing-dot fal.run.', `https://fal.run.${M}`, 'POST'],
  ['trailing-dot queue.fal.run.', `https://queue.fal.run.${M}`, 'POST'],
  ['percent-encoded host dot', `https://fal%2Erun${M}`, 'POST'],
  ['percent-encoded host letter', `https://f%61l.run${M}`, 'POST'],
  ['punycode lookalike', `https://xn--fal-xxx.run${M}`, 'POST'],
  ['punycode of a Cyrillic lookalike', `https://xn--fl-6kc.run${M}`, 'POST'],
  ['Cyrillic а in fal', `https://f\u0430l.run${M}`, 'POST'],
  ['fullwidth letters', `https://\uff46\uff41\uff4c.run${M}`, 'POST'],
  ['ideographic full stop', `https://fal\u3002run${M}`, 'POST'],
  ['host with leading dot', `https://.fal.run${M}`, 'POST'],
  ['host only, no path', 'https://fal.run', 'POST'],
  ['host then query, no path', 'https://queue.fal.run?fal_webhook=x', 'POST'],
  // other models and paths
  ['fal-ai/flux/dev', 'https://fal.run/fal-ai/flux/dev', 'POST'],
  ['stable-diffusion-v35-large', 'https://fal.run/fal-ai/stable-diffusion-v35-large', 'POST'],
  ['stable-diffusion-v35-medium-evil', `https://fal.run${M}-evil`, 'POST'],
  ['extra sub-path on run', `${RUN}/extra`, 'POST'],
  ['extra sub-path on submit', `${QUEUE}/extra`, 'POST'],
  ['trailing slash on run', `${RUN}/`, 'POST'],
  ['trailing slash on status', `${REQ}/status/`, 'GET'],
  ['upper-case model path', 'https://fal.run/FAL-AI/STABLE-DIFFUSION-V35-MEDIUM', 'POST'],
  ['root path', 'https://fal.run/', 'POST'],
  ['owner only', 'https://fal.run/fal-ai', 'POST'],
  ['queue requests without id', `https://queue.fal.run${REQUESTS_PREFIX}`, 'GET'],
  ['queue requests with trailing slash', `https://queue.fal.run${REQUESTS_PREFIX}/`, 'GET'],
  ['unknown queue suffix', `${REQ}/logs`, 'GET'],
  ['stream with extra segment', `${REQ}/status/stream/more`, 'GET'],
  ['response with extra segment', `${REQ}/response/x`, 'GET'],
  ['cancel with extra segment', `${REQ}/cancel/x`, 'PUT'],
  ['another model requests path', `https://queue.fal.run/fal-ai/flux/dev/requests/${ID}/status`, 'GET'],
  // path traversal and encoding
  ['.. to another model', `https://fal.run${M}/../flux/dev`, 'POST'],
  ['.. back to the model', `https://fal.run${M}/x/..`, 'POST'],
  ['%2e%2e', `https://fal.run${M}/%2e%2e/flux/dev`, 'POST'],
  ['%2E%2E', `https://fal.run${M}/%2E%2E/flux/dev`, 'POST'],
  ['%252e (double encoding)', `https://fal.run${M}/%252e%252e/flux/dev`, 'POST'],
  ['..%2f', `https://fal.run${M}/..%2fflux/dev`, 'POST'],
  ['.%2e', `https://fal.run${M}/.%2e/flux`, 'POST'],
  ['%2f between owner and app', 'https://fal.run/fal-ai%2fstable-diffusion-v35-medium', 'POST'],
  ['percent-encoded model letter', 'https://fal.run/fal-ai/stable-diffusion-v35-mediu%6d', 'POST'],
  ['/./', `https://fal.run/fal-ai/./stable-diffusion-v35-medium`, 'POST'],
  ['trailing /.', `https://fal.run${M}/.`, 'POST'],
  ['// in the path', `https://fal.run/fal-ai//stable-diffusion-v35-medium`, 'POST'],
  ['leading //', `https://fal.run//fal-ai/stable-diffusion-v35-medium`, 'POST'],
  ['// before request id', `https://queue.fal.run${REQUESTS_PREFIX}//${ID}`, 'GET'],
  ['; params on run', `https://fal.run${M};a=b`, 'POST'],
  ['; params on status', `${REQ}/status;x`, 'GET'],
  ['; params in query', `${REQ}/status?logs=1;x=2`, 'GET'],
  // backslashes, whitespace and control characters
  ['backslash path', `https://fal.run\\fal-ai\\stable-diffusion-v35-medium`, 'POST'],
  ['backslash before @', `https://evil.com\\@fal.run${M}`, 'POST'],
  ['backslash after host', `https://fal.run\\${M}`, 'POST'],
  ['CRLF header injection', `${RUN}\r\nHost: evil`, 'POST'],
  ['CR only', `${RUN}\r`, 'POST'],
  ['LF inside the host', `https://fal.\nrun${M}`, 'POST'],
  ['tab in the host', `https://fal.\trun${M}`, 'POST'],
  ['tab in the path', `https://fal.run/fal-ai/\tstable-diffusion-v35-medium`, 'POST'],
  ['trailing tab', `${RUN}\t`, 'POST'],
  ['NUL', `${RUN}\0`, 'POST'],
  ['NUL in host', `https://fal.run\0.evil.com${M}`, 'POST'],
  ['space in the path', `https://fal.run/fal-ai/ stable-diffusion-v35-medium`, 'POST'],
  ['trailing space', `${RUN} `, 'POST'],
  ['DEL', `${RUN}\x7f`, 'POST'],
  ['non-ASCII in the query', `${QUEUE}?fal_webhook=h\u00e9`, 'POST'],
  // fragments
  ['fragment on run', `${RUN}#x`, 'POST'],
  ['empty fragment', `${RUN}#`, 'POST'],
  ['fragment hiding a path', `https://fal.run#${M}`, 'POST'],
  ['fragment on status', `${REQ}/status?logs=0#frag`, 'GET'],
  // bad request ids
  ['id ../x', `https://queue.fal.run${REQUESTS_PREFIX}/../x/status`, 'GET'],
  ['id too long', `https://queue.fal.run${REQUESTS_PREFIX}/${'a'.repeat(65)}/status`, 'GET'],
  ['id with %2f', `https://queue.fal.run${REQUESTS_PREFIX}/abc%2fdef/status`, 'GET'],
  ['empty id on status', `https://queue.fal.run${REQUESTS_PREFIX}//status`, 'GET'],
  ['id starting with a dash', `https://queue.fal.run${REQUESTS_PREFIX}/-abc/status`, 'GET'],
  ['id with underscore', `https://queue.fal.run${REQUESTS_PREFIX}/abc_def`, 'GET'],
  ['id with a dot', `https://queue.fal.run${REQUESTS_PREFIX}/abc.def`, 'GET'],
  ['id with a tilde', `https://queue.fal.run${REQUESTS_PREFIX}/abc~def/cancel`, 'PUT'],
  // wrong methods
  ['GET on run', RUN, 'GET'],
  ['PUT on run', RUN, 'PUT'],
  ['GET on submit', QUEUE, 'GET'],
  ['POST on status', `${REQ}/status`, 'POST'],
  ['POST on stream', `${REQ}/status/stream`, 'POST'],
  ['GET on cancel', `${REQ}/cancel`, 'GET'],
  ['POST on cancel', `${REQ}/cancel`, 'POST'],
  ['PUT on result', REQ, 'PUT'],
  ['POST on /response', `${REQ}/response`, 'POST'],
  ['DELETE on run', RUN, 'DELETE'],
  ['DELETE on submit', QUEUE, 'DELETE'],
  ['DELETE on result', REQ, 'DELETE'],
  ['DELETE on cancel', `${REQ}/cancel`, 'DELETE'],
  ['OPTIONS preflight', RUN, 'OPTIONS'],
  ['HEAD on result', REQ, 'HEAD'],
  ['PATCH on cancel', `${REQ}/cancel`, 'PATCH'],
  ['empty method', RUN, ''],
  ['method with a space', RUN, 'POST '],
  ['method with long-s that upper-cases to POST', RUN, 'po\u017ft'],
  ['method with dotless i', `${REQ}/status`, 'GET\u0131'],
  // query strictness
  ['duplicate fal_webhook', `${QUEUE}?fal_webhook=a&fal_webhook=b`, 'POST'],
  ['duplicate fal_max_queue_length', `${QUEUE}?fal_max_queue_length=1&fal_max_queue_length=2`, 'POST'],
  ['unknown parameter on submit', `${QUEUE}?x=1`, 'POST'],
  ['webhook plus unknown parameter', `${QUEUE}?fal_webhook=a&x=1`, 'POST'],
  ['percent-encoded key', `${QUEUE}?fal%5Fwebhook=a`, 'POST'],
  ['upper-case key', `${QUEUE}?FAL_WEBHOOK=a`, 'POST'],
  ['empty webhook', `${QUEUE}?fal_webhook=`, 'POST'],
  ['key without =', `${QUEUE}?fal_webhook`, 'POST'],
  ['empty query on submit', `${QUEUE}?`, 'POST'],
  ['trailing & on submit', `${QUEUE}?fal_webhook=a&`, 'POST'],
  ['leading & on submit', `${QUEUE}?&fal_webhook=a`, 'POST'],
  ['malformed percent in webhook', `${QUEUE}?fal_webhook=%zz`, 'POST'],
  ['truncated percent in webhook', `${QUEUE}?fal_webhook=abc%2`, 'POST'],
  ['invalid UTF-8 in webhook', `${QUEUE}?fal_webhook=%ff`, 'POST'],
  ['quote in query', `${QUEUE}?fal_webhook=a'b`, 'POST'],
  ['angle bracket in query', `${QUEUE}?fal_webhook=<a>`, 'POST'],
  ['max queue length 0', `${QUEUE}?fal_max_queue_length=0`, 'POST'],
  ['max queue length negative', `${QUEUE}?fal_max_queue_length=-1`, 'POST'],
  ['max queue length over the bound', `${QUEUE}?fal_max_queue_length=1000001`, 'POST'],
  ['max queue length leading zero', `${QUEUE}?fal_max_queue_length=07`, 'POST'],
  ['max queue length fractional', `${QUEUE}?fal_max_queue_length=1.5`, 'POST'],
  ['max queue length exponent', `${QUEUE}?fal_max_queue_length=1e3`, 'POST'],
  ['max queue length empty', `${QUEUE}?fal_max_queue_length=`, 'POST'],
  ['max queue length huge', `${QUEUE}?fal_max_queue_length=${'9'.repeat(30)}`, 'POST'],
  ['logs=2', `${REQ}/status?logs=2`, 'GET'],
  ['logs empty', `${REQ}/status?logs=`, 'GET'],
  ['logs=TRUE', `${REQ}/status?logs=TRUE`, 'GET'],
  ['logs repeated', `${REQ}/status?logs=0&logs=1`, 'GET'],
  ['status with fal_webhook', `${REQ}/status?fal_webhook=a`, 'GET'],
  ['status with unknown parameter', `${REQ}/status?x=1`, 'GET'],
  ['stream with extra parameter', `${REQ}/status/stream?logs=0&fal_jwt_token=x`, 'GET'],
  ['empty query on status', `${REQ}/status?`, 'GET'],
  ['query on run', `${RUN}?fal_webhook=a`, 'POST'],
  ['empty query on run', `${RUN}?`, 'POST'],
  ['query on result', `${REQ}?logs=1`, 'GET'],
  ['query on /response', `${REQ}/response?x=1`, 'GET'],
  ['query on cancel', `${REQ}/cancel?x=1`, 'PUT'],
  // paths on the wrong host
  ['status path on fal.run', `https://fal.run${REQUESTS_PREFIX}/${ID}/status`, 'GET'],
  ['result path on fal.run', `https://fal.run${REQUESTS_PREFIX}/${ID}`, 'GET'],
  ['cancel path on fal.run', `https://fal.run${REQUESTS_PREFIX}/${ID}/cancel`, 'PUT'],
  ['run path on queue.fal.run with GET', QUEUE, 'GET'],
];

describe('parseTargetUrl: hostile targets', () => {
  it('has a large hostile table', () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(80);
  });

  it.each(HOSTILE)('refuses %s', (_name, header, method) => {
    const decision = parseTargetUrl(header, method);
    expect(decision.ok).toBe(false);
    if (!decision.ok) {
      expect(decision.reason.length).toBeGreaterThan(0);
      expect(decision.reason.length).toBeLessThanOrEqual(100);
      expect(decision.reason).not.toMatch(/evil|169\.254|localhost|\r|\n/);
    }
  });

  const VALID: [string, string][] = [
    [RUN, 'POST'],
    [QUEUE, 'POST'],
    [`${REQ}/status?logs=0`, 'GET'],
    [`${REQ}/status/stream?logs=1`, 'GET'],
    [REQ, 'GET'],
    [`${REQ}/response`, 'GET'],
    [`${REQ}/cancel`, 'PUT'],
  ];
  const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT'];
  const matrix = VALID.flatMap(([url, allowed]) =>
    METHODS.filter((m) => m !== allowed).map((m): [string, string] => [url, m]),
  );

  it.each(matrix)('refuses %s with any other method (%s)', (url, method) => {
    expect(parseTargetUrl(url, method)).toEqual({ ok: false, reason: 'method not allowed for this target' });
  });
});

/** mulberry32: a tiny deterministic PRNG, so a failing mutation reproduces from the seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = [
  '/', '.', '..', '%', '%2e', '%2f', '%25', '@', ':', '?', '#', '&', '=', ';', '\\', ' ', '\t', '\r', '\n', '\0',
  'a', 'A', 'z', '0', '9', '-', '_', '~', '+', '[', ']', "'", '\u0430', '\u3002', '\uff0e', 'evil.com', 'fal.run',
  'logs=1', 'fal_webhook=x', ':443', '//', 'x@',
];

function mutate(input: string, rand: () => number): string {
  let s = input;
  const edits = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (s.length + 1));
    const piece = ALPHABET[Math.floor(rand() * ALPHABET.length)] ?? '';
    const action = rand();
    if (action < 0.4) s = s.slice(0, at) + piece + s.slice(at);
    else if (action < 0.8) s = s.slice(0, at) + piece + s.slice(at + 1);
    else s = s.slice(0, at) + s.slice(at + 1);
  }
  return s;
}

/** The paths an accepted decision stands for; fal's upstream URL would be built from one of these. */
function canonicalPaths(op: Operation): string[] {
  switch (op.kind) {
    case 'run':
    case 'submit':
      return [MODEL_PATH];
    case 'status':
      return [`${REQUESTS_PREFIX}/${op.requestId}/status`];
    case 'stream':
      return [`${REQUESTS_PREFIX}/${op.requestId}/status/stream`];
    case 'result':
      return [`${REQUESTS_PREFIX}/${op.requestId}`, `${REQUESTS_PREFIX}/${op.requestId}/response`];
    case 'cancel':
      return [`${REQUESTS_PREFIX}/${op.requestId}/cancel`];
  }
}

function expectAllowedShape(header: string, method: string, decision: TargetDecision & { ok: true }): void {
  const { origin, op } = decision;
  const url = new URL(header);
  expect(url.protocol).toBe('https:');
  expect(url.username + url.password + url.port + url.hash).toBe('');
  expect(header).toMatch(/^[\x21-\x5b\x5d-\x7e]+$/);
  expect(header.slice(0, header.indexOf('/', 8))).not.toMatch(/@|%/);
  if (origin === 'run') {
    expect(op).toEqual({ kind: 'run' });
    expect(url.host).toBe('fal.run');
  } else {
    expect(op.kind).not.toBe('run');
    expect(url.host).toBe('queue.fal.run');
  }
  expect(canonicalPaths(op)).toContain(url.pathname);
  expect(url.pathname).not.toMatch(/%|\/\.|\/\//);
  if ('requestId' in op) expect(op.requestId).toMatch(REQUEST_ID_PATTERN);
  const expectedMethod = { run: 'POST', submit: 'POST', status: 'GET', stream: 'GET', result: 'GET', cancel: 'PUT' }[op.kind];
  expect(method.toUpperCase()).toBe(expectedMethod);
  const keys = [...url.searchParams.keys()];
  if (op.kind === 'status' || op.kind === 'stream') {
    expect(keys.every((k) => k === 'logs')).toBe(true);
  } else if (op.kind === 'submit') {
    expect(keys.every((k) => k === 'fal_webhook' || k === 'fal_max_queue_length')).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
  } else {
    expect(url.search).toBe('');
  }
}

describe('parseTargetUrl: mutated targets', () => {
  const seeds: [string, string][] = [
    [RUN, 'POST'],
    [`${QUEUE}?fal_webhook=https%3A%2F%2Fh.example%2Fx&fal_max_queue_length=5`, 'POST'],
    [`${REQ}/status?logs=1`, 'GET'],
    [`${REQ}/status/stream?logs=0`, 'GET'],
    [REQ, 'GET'],
    [`${REQ}/response`, 'GET'],
    [`${REQ}/cancel`, 'PUT'],
  ];

  it('refuses every mutation or decodes it to one allowed (origin, op) shape', () => {
    const rand = prng(0x5eed);
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 5000; i++) {
      const [base, method] = seeds[i % seeds.length] ?? [RUN, 'POST'];
      const header = mutate(base, rand);
      const decision = parseTargetUrl(header, method);
      if (decision.ok) {
        accepted++;
        expectAllowedShape(header, method, decision);
      } else {
        refused++;
        expect(decision.reason.length).toBeLessThanOrEqual(100);
      }
    }
    // Both branches must actually be exercised for the property to mean anything.
    expect(accepted).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(3000);
  });
});
