/** OpenAPI paths for named admin credentials and the audit log (services/admin-credentials.ts, audit.ts). */

type Json = Record<string, unknown>;

const err = (...codes: number[]): Json => Object.fromEntries(codes.map((c) => [String(c), { $ref: `#/components/responses/${c}` }]));
const ok = (description: string, schema: Json): Json => ({ description, content: { 'application/json': { schema } } });
const str = (description?: string): Json => ({ type: 'string', ...(description ? { description } : {}) });
const nullableStr = { type: ['string', 'null'] };

const ADMIN = {
  type: 'object',
  required: ['id', 'name', 'role', 'prefix', 'created_at', 'revoked_at'],
  properties: { id: str(), name: str(), role: { enum: ['admin', 'viewer'] }, prefix: str('First characters of the secret, safe to show'), created_at: str(), revoked_at: nullableStr },
};
const ENTRY = {
  type: 'object',
  required: ['id', 'at', 'actor', 'action', 'target', 'before', 'after', 'client_ip'],
  properties: {
    id: str(),
    at: str(),
    actor: str('`bootstrap` (ADMIN_TOKEN), `admin:<id>` (a named credential) or `cli:<os user>`'),
    action: { enum: ['key.create', 'key.update', 'key.rotate', 'key.revoke', 'key.delete', 'team.set', 'admin.create', 'admin.revoke', 'console.sign_in', 'console.sign_out'] },
    target: nullableStr,
    before: { description: 'The public view before the change (null on create); never a secret or hash' },
    after: { description: 'The public view after the change' },
    client_ip: { type: ['string', 'null'], description: 'Null for the CLI' },
  },
};
const query = (name: string, description: string): Json => ({ name, in: 'query', required: false, schema: { type: 'string' }, description });
const SECURITY = [{ adminToken: [] }];
const ID = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];

export function adminPaths(): Json {
  return {
    '/admin/admins': {
      post: {
        tags: ['admin'],
        operationId: 'createAdmin',
        summary: 'Create a named admin credential (role admin or viewer); the secret is shown once',
        security: SECURITY,
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['name', 'role'], additionalProperties: false, properties: { name: str(), role: { enum: ['admin', 'viewer'] } } } } } },
        responses: { '201': ok('Created. `secret` (`fgw_ad_…`) is not shown again.', { ...ADMIN, properties: { ...ADMIN.properties, secret: str() } }), ...err(400, 401, 403, 429) },
      },
      get: { tags: ['admin'], operationId: 'listAdmins', summary: 'List admin credentials (never their secrets)', security: SECURITY, responses: { '200': ok('The credentials.', { type: 'object', properties: { admins: { type: 'array', items: ADMIN } } }), ...err(401, 403, 429) } },
    },
    '/admin/admins/{id}': {
      parameters: ID,
      delete: { tags: ['admin'], operationId: 'revokeAdmin', summary: 'Revoke an admin credential: it gets 401 from then on', security: SECURITY, responses: { '200': ok('Revoked.', ADMIN), ...err(401, 403, 404, 429) } },
    },
    '/admin/audit': {
      get: {
        tags: ['admin'],
        operationId: 'listAudit',
        summary: 'The audit log of admin actions, newest first (viewers may read it)',
        security: SECURITY,
        parameters: [
          query('actor', 'Exact actor'),
          query('action', 'Exact action, e.g. key.update'),
          query('target', 'Exact target id or team name'),
          query('from', 'Inclusive lower bound (YYYY-MM-DD or ISO-8601)'),
          query('to', 'Inclusive upper bound (YYYY-MM-DD or ISO-8601)'),
          query('limit', 'Entries per page, 1 to 1000 (default 100)'),
          query('cursor', '`next_cursor` of the previous page'),
        ],
        responses: { '200': ok('One page.', { type: 'object', required: ['entries', 'next_cursor'], properties: { entries: { type: 'array', items: ENTRY }, next_cursor: nullableStr } }), ...err(400, 401, 403, 429) },
      },
    },
  };
}

export const ADMIN_SECURITY_SCHEME: Json = {
  type: 'http',
  scheme: 'bearer',
  description: '`ADMIN_TOKEN` (the bootstrap credential) or a named admin credential `fgw_ad_…`. A `viewer` may only GET /admin/usage, /admin/keys[/{id}], /admin/teams[/{name}], /admin/requests and /admin/audit; anything else answers 403 `forbidden`.',
};
