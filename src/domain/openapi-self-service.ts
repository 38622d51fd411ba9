/** OpenAPI paths for key holders: minting browser tokens and reading their own usage. */
import { PERIOD } from './openapi-reports.js';
import { TokenBody } from './tokens.js';

type Json = Record<string, unknown>;

const errorRef = (code: number): Json => ({ $ref: `#/components/responses/${code}` });

const PERIODS = { type: 'object', additionalProperties: false, required: ['lifetime', 'day', 'month'], properties: { lifetime: PERIOD, day: PERIOD, month: PERIOD } };

/** services/usage-report.ts selfUsage: the key's lifetime period at the top, its day and month, its team's three periods. */
const OWN_USAGE: Json = {
  type: 'object',
  additionalProperties: false,
  required: ['key_id', 'name', 'team', 'spent_usd', 'reserved_usd', 'budget_usd', 'remaining_usd', 'day', 'month', 'limits'],
  properties: {
    key_id: { type: 'string' },
    name: { type: 'string' },
    team: { type: ['string', 'null'] },
    ...(PERIOD.properties as Json),
    day: PERIOD,
    month: PERIOD,
    team_budgets: { ...PERIODS, description: 'Present when the key has a team' },
    limits: { type: 'object', additionalProperties: false, required: ['rpm', 'max_concurrency'], properties: { rpm: { type: ['integer', 'null'] }, max_concurrency: { type: ['integer', 'null'] } } },
  },
};

export function selfServicePaths(): Json {
  return {
    '/v1/tokens': {
      post: {
        tags: ['browser'],
        operationId: 'mintToken',
        summary: 'Mint a short-lived browser token (secret keys only; expiry ≤ 1 h)',
        description:
          'The token is used as fal credentials by a page (`createFalClient({ credentials: token, proxyUrl })`). Its spend counts against the parent key and its own `max_usd` / `max_images`; it dies with the parent key; `allowed_origins` binds it to pages of those origins.',
        // JSON round trip: plain JSON Schema without TypeBox's symbol keys.
        requestBody: { required: true, content: { 'application/json': { schema: JSON.parse(JSON.stringify(TokenBody)) as Json } } },
        responses: {
          '201': {
            description: 'The token (shown once).',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['token', 'token_id', 'expires_at'],
                  properties: {
                    token: { type: 'string', description: '`fgw_tk_…`' },
                    token_id: { type: 'string' },
                    expires_at: { type: 'string', format: 'date-time' },
                    max_usd: { type: ['number', 'null'] },
                    max_images: { type: ['integer', 'null'] },
                    allowed_origins: { type: 'array', items: { type: 'string' } },
                    end_user: { type: ['string', 'null'] },
                  },
                },
              },
            },
          },
          '401': errorRef(401),
          '403': errorRef(403),
          '422': errorRef(422),
          '429': errorRef(429),
        },
      },
    },
    '/v1/usage': {
      get: {
        tags: ['browser'],
        operationId: 'ownUsage',
        summary: "The caller's own spend, reservations and remaining budgets (key; team when it has one)",
        responses: {
          '200': {
            description: 'Spend in USD; `budget_usd`/`remaining_usd` are null where no budget is set.',
            content: { 'application/json': { schema: OWN_USAGE } },
          },
          '401': errorRef(401),
          '429': errorRef(429),
        },
      },
    },
  };
}
