/**
 * OpenAPI 3.1 document of the mirror, built from the same TypeBox schemas that validate requests
 * (schema.ts), so /docs cannot drift from behaviour. A plain JSON object: whoever serves /docs
 * owns the HTTP side. Paths follow fal's layout (docs/fal-protocol.md §2.2, §2.3, §3.1) under
 * the gateway's prefixes (docs/design.md §1.1, §1.2).
 */
import { ADMIN_SECURITY_SCHEME, adminPaths } from './openapi-admin.js';
import { adminKeyPaths } from './openapi-admin-keys.js';
import { consolePaths } from './openapi-console.js';
import { METRICS_SECURITY_SCHEME, operationsPaths } from './openapi-operations.js';
import { reportPaths } from './openapi-reports.js';
import { selfServicePaths } from './openapi-self-service.js';
import { MODEL_ID, MODEL_PATH, REQUESTS_PREFIX } from './model.js';
import {
  CancelStatusSchema,
  createImageSizeSchema,
  createInputSchema,
  FalValidationErrorSchema,
  GatewayErrorSchema,
  ImageSchema,
  ImageSizePresetSchema,
  QueueLogSchema,
  QueueStatusSchema,
  Sd35OutputSchema,
  ValidationIssueSchema,
} from './schema.js';
import type { UnknownFieldPolicy } from './validation.js';

export type OpenApiDocument = Record<string, unknown>;
type Json = Record<string, unknown>;

const ref = (kind: 'schemas' | 'responses' | 'headers' | 'parameters', name: string): Json => ({
  $ref: `#/components/${kind}/${name}`,
});
const json = (schema: Json): Json => ({ 'application/json': { schema } });

/** Plain-JSON component schemas; nested copies of another component become a `$ref`. */
function componentSchemas(unknownFields: UnknownFieldPolicy): Record<string, unknown> {
  const open = unknownFields === 'forward';
  const typed: Record<string, unknown> = {
    Sd35Input: createInputSchema({ additionalProperties: open }),
    ImageSize: createImageSizeSchema({ additionalProperties: open }),
    ImageSizePreset: ImageSizePresetSchema,
    Sd35Output: Sd35OutputSchema,
    Image: ImageSchema,
    QueueStatus: QueueStatusSchema,
    QueueLog: QueueLogSchema,
    CancelStatus: CancelStatusSchema,
    ValidationIssue: ValidationIssueSchema,
    FalValidationError: FalValidationErrorSchema,
    GatewayError: GatewayErrorSchema,
  };
  // A JSON round trip drops TypeBox's symbol keys, leaving plain JSON Schema (2020-12 compatible).
  const plain = JSON.parse(JSON.stringify(typed)) as Record<string, unknown>;
  const byShape = new Map(Object.entries(plain).map(([name, schema]) => [JSON.stringify(schema), name]));
  const link = (node: unknown, root: boolean): unknown => {
    if (Array.isArray(node)) return node.map((n) => link(n, false));
    if (typeof node !== 'object' || node === null) return node;
    const named = root ? undefined : byShape.get(JSON.stringify(node));
    if (named !== undefined) return ref('schemas', named);
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, link(v, false)]));
  };
  return Object.fromEntries(Object.entries(plain).map(([name, schema]) => [name, link(schema, true)]));
}

const header = (description: string, example?: string): Json => ({
  description,
  schema: example === undefined ? { type: 'string' } : { type: 'string', examples: [example] },
});

const HEADERS: Record<string, Json> = {
  'x-fal-request-id': header("fal's request id, passed through from fal.", '764cabcf-b745-4b3e-ae38-1200304cf45b'),
  'x-gateway-request-id': header('The gateway request id; also `request_id` in gateway error bodies.'),
  'x-gateway-cost-usd': header('USD charged for this request (settled, else reserved), fixed 6 decimals.', '0.020000'),
  'x-gateway-megapixels': header('Megapixels of this request (10^6 px each), as a decimal.', '0.786432'),
  'x-gateway-budget-remaining-usd': header('Tightest remaining budget of the calling key, fixed 6 decimals.', '49.980000'),
  'x-fal-billable-units': header("fal's billing units for this request, passed through (decimal).", '1'),
  'retry-after': header('Seconds to wait before retrying.', '12'),
};
const headerRefs = (...names: string[]): Json => Object.fromEntries(names.map((n) => [n, ref('headers', n)]));
const ERROR_HEADERS = headerRefs('x-gateway-request-id');
const COST_HEADERS = headerRefs(
  'x-fal-request-id',
  'x-gateway-request-id',
  'x-gateway-cost-usd',
  'x-gateway-megapixels',
  'x-gateway-budget-remaining-usd',
  'x-fal-billable-units',
);

/** Error responses by status; bodies are fal's shapes (docs/fal-protocol.md §2.7, docs/design.md §1). */
function errorResponses(unknownFieldsText: string): Record<string, Json> {
  const gatewayError = (description: string, headers: Json = ERROR_HEADERS): Json => ({
    description,
    headers,
    content: json(ref('schemas', 'GatewayError')),
  });
  return {
    '400': gatewayError('`bad_request`: malformed JSON, missing `x-fal-target-url`, or a result fetched before completion.'),
    '401': gatewayError('`unauthorized`: missing or unknown gateway key or token.'),
    '402': gatewayError(
      '`budget_exceeded`: the quote does not fit a budget of the key or its team. Deliberately not 429, which fal clients retry automatically.',
    ),
    '403': gatewayError('`forbidden`: target URL, origin, webhook or key policy not allowed.'),
    '404': gatewayError('`not_found`: unknown request id, or one owned by another key (the two are indistinguishable).'),
    '409': gatewayError('`conflict`: the first request with this `Idempotency-Key` is still running; retry later.'),
    '413': gatewayError('`payload_too_large`: request body over the configured limit.'),
    '415': gatewayError('The body must be `application/json`.'),
    '422': {
      description: `Validation error in pydantic v2 style, \`loc\` starting with "body" (or \`["header", "idempotency-key"]\` for a reused or unreplayable Idempotency-Key). ${unknownFieldsText} fal's own 422s pass through unchanged.`,
      headers: ERROR_HEADERS,
      content: json(ref('schemas', 'FalValidationError')),
    },
    '429': gatewayError('`rate_limited` (requests per minute, per key or per IP after failed logins; too many status streams) or `concurrency_limited` (generations in flight over the key\'s `max_concurrency` or the gateway-wide cap). Honour `Retry-After`.', {
      ...ERROR_HEADERS,
      ...headerRefs('retry-after'),
    }),
    '500': gatewayError('`upstream_outcome_unknown`: a POST may have reached fal but no answer came back (charged at its quote, flagged; deliberately not 502/503/504, which fal clients retry). Also `internal_error`.'),
    '502': gatewayError("`upstream_unreachable`, `upstream_bad_response`, or `upstream_auth_failed` (fal refused the gateway's own key). fal's own 5xx answers pass through unchanged."),
    '503': gatewayError('The gateway is shutting down or its store is unavailable.'),
    '504': gatewayError('fal did not answer in time, or `x-fal-request-timeout` expired (`X-Fal-Request-Timeout-Type: user`).'),
  };
}

const errs = (...codes: number[]): Json => Object.fromEntries(codes.map((c) => [String(c), ref('responses', String(c))]));
const GENERATION_ERRORS = [400, 401, 402, 403, 409, 413, 415, 422, 429, 500, 502, 503, 504];
const READ_ERRORS = [401, 403, 404, 429, 502, 503, 504];

const INPUT_BODY: Json = { required: true, content: json(ref('schemas', 'Sd35Input')) };
const RESULT: Json = { description: 'The model output.', headers: COST_HEADERS, content: json(ref('schemas', 'Sd35Output')) };
const STATUS: Json = { description: 'Queue status.', content: json(ref('schemas', 'QueueStatus')) };

const PARAMETERS: Record<string, Json> = {
  request_id: { name: 'request_id', in: 'path', required: true, schema: { type: 'string' } },
  logs: {
    name: 'logs',
    in: 'query',
    description: 'Include logs: `1`/`0` (JS client) or `true`/`false` (Python client).',
    schema: { type: 'string', enum: ['0', '1', 'true', 'false'] },
  },
  'Idempotency-Key': {
    name: 'Idempotency-Key',
    in: 'header',
    description: 'Optional, 1–255 visible ASCII characters. The same key and request (body, and a submit\'s `fal_webhook`/`fal_max_queue_length`) within 24 h replays the first answer (header `idempotent-replayed: true`) without a second fal call or charge. Keys are per operation. 409 while the first is still running; 422 (`loc: ["header", "idempotency-key"]`) for a different request under the same key or an answer that cannot be replayed; a first try that never reached fal frees the key.',
    schema: { type: 'string', maxLength: 255 },
  },
  fal_webhook: {
    name: 'fal_webhook',
    in: 'query',
    description: 'URL fal POSTs the result to when done (signed by fal). Must be https and under a prefix in the key\'s `allowed_webhook_urls`, else 403.',
    schema: { type: 'string', format: 'uri' },
  },
  'x-fal-target-url': {
    name: 'x-fal-target-url',
    in: 'header',
    required: true,
    description: `The real fal URL (set by \`@fal-ai/client\` \`proxyUrl\`). Only \`https://fal.run/${MODEL_ID}\`, \`https://queue.fal.run/${MODEL_ID}\` and its \`/requests/{id}[/status[/stream]|/response|/cancel]\` are accepted; anything else is 403.`,
    schema: { type: 'string', format: 'uri' },
  },
};
const params = (...names: string[]): Json[] => names.map((n) => ref('parameters', n));

function paths(): Json {
  const queueModel = `/queue${MODEL_PATH}`;
  const request = `/queue${REQUESTS_PREFIX}/{request_id}`;
  const proxyOp = (method: string, extra: Json): Json => ({
    tags: ['proxy'],
    operationId: `proxy${method}`,
    summary: `${method.toUpperCase()} through the \`@fal-ai/client\` proxy protocol`,
    parameters: params('x-fal-target-url'),
    responses: {
      '200': { description: "The target operation's response (output, queue status or SSE stream), as above." },
      ...errs(...GENERATION_ERRORS, 404),
    },
    ...extra,
  });
  const result = (operationId: string, summary: string): Json => ({
    get: { tags: ['queue'], operationId, summary, responses: { '200': RESULT, ...errs(400, ...READ_ERRORS) } },
  });
  return {
    [MODEL_PATH]: {
      post: {
        tags: ['generation'],
        operationId: 'run',
        summary: 'Generate and wait (like `POST https://fal.run/…`)',
        parameters: params('Idempotency-Key'),
        requestBody: INPUT_BODY,
        responses: { '200': RESULT, ...errs(...GENERATION_ERRORS) },
      },
    },
    [queueModel]: {
      post: {
        tags: ['queue'],
        operationId: 'submit',
        summary: 'Enqueue (like `POST https://queue.fal.run/…`); URLs in the answer point at the gateway',
        parameters: params('fal_webhook', 'Idempotency-Key'),
        requestBody: INPUT_BODY,
        responses: { '200': { ...STATUS, headers: COST_HEADERS }, ...errs(...GENERATION_ERRORS) },
      },
    },
    [`${request}/status`]: {
      parameters: params('request_id'),
      get: {
        tags: ['queue'],
        operationId: 'status',
        summary: 'Poll status: 202 while IN_QUEUE/IN_PROGRESS, 200 when COMPLETED (failure = COMPLETED + `error`)',
        parameters: params('logs'),
        responses: { '200': STATUS, '202': STATUS, ...errs(...READ_ERRORS) },
      },
    },
    [`${request}/status/stream`]: {
      parameters: params('request_id'),
      get: {
        tags: ['queue'],
        operationId: 'statusStream',
        summary: 'Server-sent events; each `data:` is one QueueStatus JSON; closes after COMPLETED',
        parameters: params('logs'),
        responses: {
          '200': { description: 'SSE stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } },
          ...errs(...READ_ERRORS),
        },
      },
    },
    [request]: { parameters: params('request_id'), ...result('result', 'Fetch the result') },
    [`${request}/response`]: { parameters: params('request_id'), ...result('resultResponse', 'Fetch the result (alias)') },
    [`${request}/cancel`]: {
      parameters: params('request_id'),
      put: {
        tags: ['queue'],
        operationId: 'cancel',
        summary: 'Cancel: 202 CANCELLATION_REQUESTED, 400 ALREADY_COMPLETED, 404 NOT_FOUND',
        responses: {
          '202': { description: 'Cancellation requested.', content: json(ref('schemas', 'CancelStatus')) },
          '400': { description: 'Already completed.', content: json(ref('schemas', 'CancelStatus')) },
          ...errs(...READ_ERRORS),
        },
      },
    },
    '/api/fal/proxy': {
      post: proxyOp('post', { requestBody: INPUT_BODY }),
      get: proxyOp('get', {}),
      put: proxyOp('put', {}),
      options: {
        tags: ['proxy'],
        operationId: 'proxyOptions',
        summary: 'CORS preflight',
        security: [],
        responses: { '204': { description: 'Preflight answered.' } },
      },
    },
    '/healthz': {
      get: {
        tags: ['health'],
        operationId: 'healthz',
        summary: 'Liveness',
        security: [],
        responses: { '200': { description: 'The process is up.', content: json({ type: 'object' }) } },
      },
    },
  };
}

/** Path items from several modules, methods of one path (GET /admin/keys here, POST there) merged. */
function mergePaths(...parts: Json[]): Json {
  const out: Record<string, Json> = {};
  for (const part of parts) {
    for (const [path, item] of Object.entries(part)) {
      const seen = out[path] ?? {};
      for (const method of Object.keys(item as Json)) {
        if (method in seen && method !== 'parameters') throw new Error(`OpenAPI: ${method} ${path} is documented twice`);
      }
      out[path] = { ...seen, ...(item as Json) };
    }
  }
  return out;
}

/** The document; `unknownFields` (default `reject`) picks how the input schema and 422 text read. */
export function buildOpenApiDocument(opts: { publicUrl?: string; unknownFields?: UnknownFieldPolicy } = {}): OpenApiDocument {
  const unknownFields = opts.unknownFields ?? 'reject';
  const unknownFieldsText =
    unknownFields === 'reject'
      ? 'Unknown input fields are refused with 422 `extra_forbidden` (default; `UNKNOWN_FIELDS=forward` passes them to fal untouched).'
      : 'Unknown input fields are passed to fal untouched (`UNKNOWN_FIELDS=forward`; the default `reject` refuses them with 422 `extra_forbidden`).';
  return {
    openapi: '3.1.0',
    info: {
      title: `fal-gateway: ${MODEL_ID}`,
      version: '0.1.0',
      description: `A mirror of fal's \`${MODEL_ID}\`: fal clients work unchanged with a gateway key instead of \`FAL_KEY\`. Bodies are validated without coercion or defaults and forwarded byte for byte. ${unknownFieldsText} Cost is integer micro-USD per megapixel.`,
    },
    ...(opts.publicUrl === undefined ? {} : { servers: [{ url: opts.publicUrl }] }),
    security: [{ falKey: [] }, { bearer: [] }],
    tags: [{ name: 'generation' }, { name: 'queue' }, { name: 'proxy' }, { name: 'browser' }, { name: 'health' }, { name: 'operations' }, { name: 'admin' }],
    paths: mergePaths(paths(), selfServicePaths(), operationsPaths(), adminPaths(), adminKeyPaths(), reportPaths(), consolePaths()),
    components: {
      schemas: componentSchemas(unknownFields),
      responses: errorResponses(unknownFieldsText),
      headers: HEADERS,
      parameters: PARAMETERS,
      securitySchemes: {
        falKey: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: '`Authorization: Key <gateway key>`, the scheme fal SDKs send. Never forwarded to fal.',
        },
        bearer: { type: 'http', scheme: 'bearer', description: 'A gateway key or a short-lived browser token.' },
        metricsToken: METRICS_SECURITY_SCHEME,
        adminToken: ADMIN_SECURITY_SCHEME,
      },
    },
  };
}
