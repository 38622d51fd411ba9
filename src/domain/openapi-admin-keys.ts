/**
 * OpenAPI paths for the key admin API (`Authorization: Bearer <ADMIN_TOKEN>`): create, update,
 * rotate, revoke and hard-delete. Request bodies are the very schemas the routes validate with.
 */
import { CreateKeyBody, RotateKeyBody, UpdateKeyBody } from '../services/key-admin.js';

type Json = Record<string, unknown>;

/** TypeBox schemas carry symbol keys; the document is plain JSON. */
const plain = (schema: unknown): Json => JSON.parse(JSON.stringify(schema)) as Json;
const nullable = (schema: Json): Json => ({ anyOf: [schema, { type: 'null' }] });
const TIME = { type: 'string', description: 'ISO-8601 UTC' };

const usd = (description: string): Json => nullable({ type: 'number', minimum: 0, description });
const intOrNull = nullable({ type: 'integer', minimum: 1 });

/** services/key-admin.ts KeyView: never the secret or its hash. Every field, so reports can extend it strictly. */
export const KEY_VIEW_PROPERTIES: Record<string, Json> = {
  id: { type: 'string' },
  name: { type: 'string' },
  team: nullable({ type: 'string' }),
  kind: { enum: ['secret', 'publishable'] },
  prefix: { type: 'string', description: 'The secret\'s first characters: enough to recognise it, useless to use it.' },
  budget_usd: usd('Lifetime budget; null = none.'),
  budget_daily_usd: usd('Budget per UTC day; null = none.'),
  budget_monthly_usd: usd('Budget per UTC month; null = none.'),
  rpm: intOrNull,
  max_concurrency: intOrNull,
  allowed_webhook_urls: { type: 'array', items: { type: 'string' } },
  allowed_origins: { type: 'array', items: { type: 'string' } },
  policy: nullable({ type: 'object', description: 'What the key may ask fal for (the `policy` of the create body); null = the gateway defaults.' }),
  owner: nullable({ type: 'string' }),
  metadata: nullable({ type: 'object' }),
  expires_at: nullable({ ...TIME, description: 'From this time on the key and its browser tokens get 401.' }),
  previous_secret_expires_at: nullable({ ...TIME, description: 'After a rotation with a grace period: until when the replaced secret still works.' }),
  created_at: TIME,
  revoked_at: nullable(TIME),
};
const KEY_VIEW: Json = { type: 'object', required: Object.keys(KEY_VIEW_PROPERTIES), properties: KEY_VIEW_PROPERTIES };
const WITH_SECRET: Json = { allOf: [KEY_VIEW, { type: 'object', required: ['key'], properties: { key: { type: 'string', description: 'The secret, shown this once.' } } }] };

const json = (schema: Json): Json => ({ 'application/json': { schema } });
const ok = (description: string, schema: Json): Json => ({ description, content: json(schema) });
const ID = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const ERRORS = { '400': { $ref: '#/components/responses/400' }, '401': { $ref: '#/components/responses/401' }, '404': { $ref: '#/components/responses/404' } };
const ADMIN = { tags: ['admin'], security: [{ bearer: [] }] };

export function adminKeyPaths(): Json {
  return {
    '/admin/keys': {
      post: { ...ADMIN, operationId: 'createKey', summary: 'Create a key (the secret is in this answer only)', requestBody: { required: true, content: json(plain(CreateKeyBody)) }, responses: { '201': ok('Created.', WITH_SECRET), ...ERRORS } },
    },
    '/admin/keys/{id}': {
      parameters: [ID],
      patch: { ...ADMIN, operationId: 'updateKey', summary: 'Change a key\'s limits, owner, metadata or expires_at (null clears)', requestBody: { required: true, content: json(plain(UpdateKeyBody)) }, responses: { '200': ok('Updated.', KEY_VIEW), ...ERRORS } },
      delete: {
        ...ADMIN,
        operationId: 'deleteKey',
        summary: 'Revoke a key; with hard=true delete it, refused with 409 while ledger rows exist',
        parameters: [{ name: 'hard', in: 'query', required: false, schema: { enum: ['true', 'false'] } }],
        responses: {
          '200': ok('Revoked (the key) or deleted (`{id, deleted: true}`).', { anyOf: [KEY_VIEW, { type: 'object', required: ['id', 'deleted'], properties: { id: { type: 'string' }, deleted: { const: true } } }] }),
          '409': { $ref: '#/components/responses/409' },
          ...ERRORS,
        },
      },
    },
    '/admin/keys/{id}/rotate': {
      parameters: [ID],
      post: {
        ...ADMIN,
        operationId: 'rotateKey',
        summary: 'A new secret for the same key id (history, budgets and counters kept)',
        description: 'The old secret keeps working for `grace_seconds` (default 3600; 0 = stops at once), then gets 401; running instances see the change within KEY_CACHE_MS. No body means the default grace.',
        requestBody: { required: false, content: json(plain(RotateKeyBody)) },
        responses: { '200': ok('Rotated; the new secret is in this answer only.', WITH_SECRET), '409': { $ref: '#/components/responses/409' }, ...ERRORS },
      },
    },
  };
}
