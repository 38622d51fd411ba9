/**
 * OpenAPI paths of webhook settlement and relay (webhooks/): the endpoint fal delivers to, and the
 * gateway's own webhook keys. Neither takes a gateway credential: fal's signature authenticates a
 * delivery, and the JWKS is public.
 */

type Json = Record<string, unknown>;

const FAL_HEADERS = [
  ['x-fal-webhook-request-id', "fal's queue request id (the body's `request_id`)."],
  ['x-fal-webhook-user-id', "fal's account user id."],
  ['x-fal-webhook-timestamp', 'Unix seconds; refused when more than 300 s from the gateway clock.'],
  ['x-fal-webhook-signature', 'Hex ED25519 signature of `request_id \\n user_id \\n timestamp \\n hex(sha256(raw body))`, verified with the keys at `FAL_WEBHOOK_JWKS_URL`.'],
].map(([name, description]) => ({ name, in: 'header', required: true, description, schema: { type: 'string' } }));

const DELIVERY = {
  type: 'object',
  required: ['request_id', 'status'],
  description: "fal's webhook body (docs/fal-protocol.md §2.4), kept byte for byte and relayed unchanged to the caller's `fal_webhook`.",
  properties: {
    request_id: { type: 'string' },
    gateway_request_id: { type: 'string' },
    status: { enum: ['OK', 'ERROR'] },
    payload: { description: 'The output, or the error body (e.g. a 422 `detail` list); null when fal could not serialise it.' },
    payload_error: { type: 'string' },
    error: { type: 'string' },
  },
};

const JWK = {
  type: 'object',
  required: ['kty', 'crv', 'x'],
  properties: {
    kty: { const: 'OKP' },
    crv: { const: 'Ed25519' },
    x: { type: 'string', description: 'The public key, base64url.' },
    kid: { type: 'string', description: 'Derived from the key; do not depend on it: try every key.' },
    use: { const: 'sig' },
    alg: { const: 'EdDSA' },
  },
};

const ERROR = { $ref: '#/components/schemas/GatewayError' };
const json = (schema: Json): Json => ({ 'application/json': { schema } });

export function webhookPaths(): Json {
  return {
    '/webhooks/fal': {
      post: {
        tags: ['webhooks'],
        operationId: 'falWebhook',
        summary: "fal's completion webhook: verified, settles the ledger row, relayed to the caller",
        description:
          'Registered with fal as `fal_webhook` when a webhook public URL is configured (README, Webhooks). A valid delivery is stored for the relay and answered 200 at once; the row settles from one result fetch (fal\'s `x-fal-billable-units`). A repeated delivery answers 200 and changes nothing.',
        security: [],
        parameters: FAL_HEADERS,
        requestBody: { required: true, content: json(DELIVERY) },
        responses: {
          '200': { description: 'Accepted (also for a repeat).', content: json({ type: 'object', required: ['received'], properties: { received: { const: true } } }) },
          '400': { description: "The body does not carry the signed request id, or the gateway does not know that request: never submitted, or its id not recorded yet (fal's retry then finds it). Nothing settled.", content: json(ERROR) },
          '401': { description: 'Signature missing or invalid, or timestamp outside ±300 s (what the headers show is answered before the body is read, closing the connection). Nothing settled.', content: json(ERROR) },
          '503': { description: "fal's keys could not be fetched, the database could not store the delivery, or more than 8 deliveries are in flight (answered before the body, with Retry-After, closing the connection); fal retries.", content: json(ERROR) },
        },
      },
    },
    '/.well-known/jwks.json': {
      get: {
        tags: ['webhooks'],
        operationId: 'gatewayJwks',
        summary: "The gateway's webhook public keys (relayed deliveries are signed with them)",
        description:
          'Relayed deliveries carry `X-Gateway-Webhook-Request-Id`, `-User-Id` (the submitting key id), `-Timestamp` and `-Signature`: hex Ed25519 over `request_id \\n user_id \\n timestamp \\n hex(sha256(raw body))`, the layout fal uses. Try every key.',
        security: [],
        responses: {
          '200': { description: 'A JWKS; cacheable (Cache-Control max-age).', content: json({ type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: JWK } } }) },
          '503': { description: 'The signing key could not be read from the database.', content: json(ERROR) },
        },
      },
    },
  };
}
