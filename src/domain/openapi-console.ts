/** OpenAPI paths for the console's session API (http/routes/console-session.ts, README Console sign-in). */

type Json = Record<string, unknown>;

const err = (...codes: number[]): Json => Object.fromEntries(codes.map((c) => [String(c), { $ref: `#/components/responses/${c}` }]));
const str = (description: string): Json => ({ type: 'string', description });

const COOKIE = 'Set-Cookie `fgw_console=<session id>; Path=/; HttpOnly; SameSite=Strict` (plus `Secure` when the request came over https).';
const SESSION = {
  type: 'object',
  required: ['actor', 'role', 'csrf_token', 'idle_expires_at', 'expires_at'],
  additionalProperties: false,
  properties: {
    actor: str('Audit actor: `bootstrap` (ADMIN_TOKEN or a one-time sign-in code) or `admin:<credential id>`'),
    role: { enum: ['admin', 'viewer'] },
    csrf_token: str('Send as `x-csrf-token` on every cookie-authenticated call other than GET/HEAD; keep it in memory only'),
    idle_expires_at: str('When the session ends unless used before (CONSOLE_SESSION_IDLE_MS after its last use, exact to a minute)'),
    expires_at: str('When the session ends however it is used (CONSOLE_SESSION_MAX_MS after sign-in)'),
  },
};
const answer = (description: string): Json => ({ description, headers: { 'cache-control': { schema: { type: 'string', const: 'no-store' } } }, content: { 'application/json': { schema: SESSION } } });
const CSRF_HEADER = { name: 'x-csrf-token', in: 'header', required: true, schema: { type: 'string' }, description: 'The session\'s csrf_token' };

export function consolePaths(): Json {
  return {
    '/console/api/session': {
      post: {
        tags: ['admin'],
        operationId: 'consoleSignIn',
        summary: 'Sign the console in: trades an admin credential for a session cookie',
        description: `${COOKIE} The credential is not stored or echoed; a wrong one answers 401 and counts against AUTH_FAILURES_PER_MINUTE. A cross-origin \`Origin\` or \`Sec-Fetch-Site\` answers 403 \`csrf_token_invalid\`. The cookie then authenticates every \`/admin/*\` route in place of \`Authorization: Bearer\` (a Bearer header, when sent, wins); non-GET calls need \`x-csrf-token\`.`,
        security: [],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { type: 'object', required: ['credential'], additionalProperties: false, properties: { credential: str('ADMIN_TOKEN, a named admin credential (`fgw_ad_…`) or a one-time sign-in code (`fgw_os_…`, works once, 15 minutes)') } },
            },
          },
        },
        responses: { '200': answer(`Signed in. ${COOKIE}`), ...err(401, 403, 422, 429) },
      },
      get: {
        tags: ['admin'],
        operationId: 'consoleSession',
        summary: 'The current console session and its csrf_token (the same one as at sign-in); extends the idle expiry',
        security: [],
        responses: { '200': answer('The session of the `fgw_console` cookie.'), ...err(401) },
      },
      delete: {
        tags: ['admin'],
        operationId: 'consoleSignOut',
        summary: 'Sign out: deletes the session on every instance and clears the cookie',
        security: [],
        parameters: [CSRF_HEADER],
        responses: { '204': { description: 'Signed out; Set-Cookie clears `fgw_console`.' }, ...err(401, 403) },
      },
    },
  };
}
