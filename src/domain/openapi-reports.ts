/**
 * OpenAPI paths for the operator reports (services/key-report.ts, team-report.ts, usage-report.ts,
 * request-report.ts): GET /admin/keys[/{id}], /admin/teams[/{name}] (and PUT of team budgets),
 * /admin/usage and /admin/requests. Response schemas are strict (no field left undocumented): the
 * OpenAPI test validates live answers against them. USD amounts are JSON numbers exact to the
 * micro-dollar; the ledger keeps integer micro-USD.
 */
import { TeamBody } from '../services/team-admin.js';
import { KEY_VIEW_PROPERTIES } from './openapi-admin-keys.js';

type Json = Record<string, unknown>;

const plain = (schema: unknown): Json => JSON.parse(JSON.stringify(schema)) as Json;
const nullable = (schema: Json): Json => ({ anyOf: [schema, { type: 'null' }] });
const strict = (properties: Record<string, Json>, optional: string[] = []): Json => ({
  type: 'object',
  additionalProperties: false,
  required: Object.keys(properties).filter((k) => !optional.includes(k)),
  properties,
});
const num = (description?: string): Json => ({ type: 'number', ...(description ? { description } : {}) });
const int = (description?: string): Json => ({ type: 'integer', minimum: 0, ...(description ? { description } : {}) });
const str = (description?: string): Json => ({ type: 'string', ...(description ? { description } : {}) });
const TIME = str('ISO-8601 UTC');

const err = (...codes: number[]): Json => Object.fromEntries(codes.map((c) => [String(c), { $ref: `#/components/responses/${c}` }]));
const ok = (description: string, schema: Json, csv?: string): Json => ({
  description,
  content: { 'application/json': { schema }, ...(csv ? { 'text/csv': { schema: { type: 'string', description: csv } } } : {}) },
});
const SECURITY = [{ adminToken: [] }];
const query = (name: string, description: string, schema: Json = { type: 'string' }): Json => ({ name, in: 'query', required: false, schema, description });
const FORMAT = query('format', '`csv` for a spreadsheet (names that start with = + - @ are prefixed with `\'`); default JSON', { enum: ['json', 'csv'] });
const FROM = query('from', 'Inclusive lower bound on created_at: YYYY-MM-DD (midnight UTC) or ISO-8601');
const TO = query('to', 'Exclusive upper bound on created_at: YYYY-MM-DD (midnight UTC) or ISO-8601');

/** report-format.ts PeriodView. */
export const PERIOD = strict({
  spent_usd: num('Settled spend in the period'),
  reserved_usd: num('Reservations still in flight'),
  budget_usd: nullable(num('The budget of the period; null = none')),
  remaining_usd: nullable(num('max(0, budget − spent − reserved); null without a budget')),
});
const PERIODS = strict({ lifetime: PERIOD, day: PERIOD, month: PERIOD });
const PERIODS_TEXT = 'Periods are UTC: `day` is today, `month` this calendar month.';

export const KEY_REPORT = strict({
  ...KEY_VIEW_PROPERTIES,
  status: { enum: ['active', 'revoked', 'expired'] },
  last_used_at: nullable({ ...TIME, description: 'created_at of the key\'s newest ledger row (any outcome); null = never used for a generation' }),
  usage: { ...PERIODS, description: PERIODS_TEXT },
});

export const TEAM_REPORT = strict({
  name: str(),
  budget_usd: nullable(num()),
  budget_daily_usd: nullable(num()),
  budget_monthly_usd: nullable(num()),
  updated_at: nullable({ ...TIME, description: 'When the budgets were last set; null for a team that only appears on keys' }),
  keys: int('Keys naming the team, revoked and expired included'),
  active_keys: int(),
  usage: { ...PERIODS, description: PERIODS_TEXT },
});

const TEAM_VIEW = strict({ name: str(), budget_usd: nullable(num()), budget_daily_usd: nullable(num()), budget_monthly_usd: nullable(num()), updated_at: TIME });

const STATUS_COUNTS: Record<string, Json> = {
  released: int('Rows released (nothing billed: a fal failure, a cancel, a refusal by fal); counted nowhere else'),
  http_2xx: int('Rows answered 2xx. The status counts include released rows; refusals before a reservation (402 budget, 429 rate) leave no row and are in /metrics'),
  http_402: int(),
  http_429: int(),
  http_4xx: int('4xx other than 402 and 429'),
  http_5xx: int(),
};
const TOTALS: Record<string, Json> = {
  requests: int('Rows settled or still reserved'),
  megapixels: num('Requested megapixels of settled rows'),
  billed_units: num("fal's billed units of settled rows"),
  overruns: int('Settled rows billed above their reservation: should stay 0'),
  images: int('Images requested by settled rows'),
};
export const USAGE_ROW = strict(
  {
    group: str('The group\'s values joined by `/` (e.g. `2026-11-26/key_abc`)'),
    spent_usd: num(),
    reserved_usd: num(),
    ...TOTALS,
    ...STATUS_COUNTS,
    day: str('group_by with day: the UTC day'),
    hour: { ...TIME, description: 'group_by with hour: the start of the UTC hour' },
    key_id: str('group_by with key'),
    key_name: nullable(str('group_by with key: the key\'s name (null if the key was deleted)')),
    team: nullable(str('group_by with team, or the key\'s team with key; null = no team')),
    end_user: str('group_by=end_user; `""` for rows without one'),
  },
  ['day', 'hour', 'key_id', 'key_name', 'team', 'end_user'],
);
export const USAGE_REPORT = strict({
  from: nullable(TIME),
  to: nullable(TIME),
  group_by: nullable(str()),
  total_usd: num('Settled spend'),
  reserved_usd: num(),
  ...TOTALS,
  ...STATUS_COUNTS,
  rows: { type: 'array', items: USAGE_ROW, description: 'Empty without group_by; groups sort in byte order, dimension by dimension' },
});

const FLAGS = strict({
  unverified: { type: 'boolean', description: 'Settled at the quote without fal confirming the amount' },
  recovered: { type: 'boolean', description: 'Settled by recovery (the reconciler), outcome `recovered`' },
  overrun: { type: 'boolean', description: 'Settled above its reservation' },
  open: { type: 'boolean', description: 'Still reserved (in flight)' },
});
export const REQUEST_ROW = strict({
  id: str('The gateway request id that created the row (x-gateway-request-id)'),
  created_at: TIME,
  settled_at: nullable(TIME),
  key_id: str(),
  key_name: nullable(str()),
  team: nullable(str()),
  operation: { enum: ['run', 'submit'] },
  state: { enum: ['reserved', 'settled', 'released'] },
  outcome: nullable(str('e.g. ok, failed, cancelled, refused_by_fal, unknown, recovered')),
  http_status: nullable({ type: 'integer' }),
  megapixels: num('Requested megapixels'),
  images: int('num_images requested'),
  quoted_usd: num('The reservation'),
  cost_usd: nullable(num('Settled amount; null unless settled')),
  billed_units: nullable(num()),
  settle_source: nullable({ enum: ['billable_units', 'image_sizes', 'quote'] }),
  flags: FLAGS,
  fal_request_id: nullable(str()),
  end_user: nullable(str()),
  token_id: nullable(str('The browser token the request came through')),
});
export const REQUEST_PAGE = strict({
  requests: { type: 'array', items: REQUEST_ROW },
  next_cursor: nullable(str('Pass as `cursor` for the next page; null on the last page')),
});

const GROUP_BY = ['day', 'hour', 'key', 'team', 'end_user', 'day,key', 'day,team', 'hour,key', 'hour,team'];

export function reportPaths(): Json {
  return {
    '/admin/keys': {
      get: {
        tags: ['admin'],
        operationId: 'listKeys',
        summary: 'Every key with its spend, reservations and remaining budget per period, last use and status',
        security: SECURITY,
        parameters: [query('team', 'Only keys of this team'), query('status', 'Only keys in this status', { enum: ['active', 'revoked', 'expired'] }), FORMAT],
        responses: { '200': ok('The keys.', strict({ keys: { type: 'array', items: KEY_REPORT } }), 'One line per key: id, name, team, kind, prefix, owner, status, created_at, expires_at, revoked_at, last_used_at, then {lifetime,day,month}_{spent,reserved,budget,remaining}_usd'), ...err(401, 403, 422, 429) },
      },
    },
    '/admin/keys/{id}': {
      get: { tags: ['admin'], operationId: 'getKey', summary: 'One key with its spend, reservations and remaining budget per period', security: SECURITY, responses: { '200': ok('The key.', KEY_REPORT), ...err(401, 403, 404, 429) } },
    },
    '/admin/teams': {
      get: {
        tags: ['admin'],
        operationId: 'listTeams',
        summary: 'Every team (with a budget row, or only named on keys) with spend, remaining budget per period and key counts',
        security: SECURITY,
        parameters: [FORMAT],
        responses: { '200': ok('The teams, in byte order of their names.', strict({ teams: { type: 'array', items: TEAM_REPORT } }), 'One line per team: name, keys, active_keys, updated_at, then the period amounts as for keys'), ...err(401, 403, 429) },
      },
    },
    '/admin/teams/{name}': {
      parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
      get: { tags: ['admin'], operationId: 'getTeam', summary: 'One team\'s report', security: SECURITY, responses: { '200': ok('The team.', TEAM_REPORT), ...err(401, 403, 404, 429) } },
      put: {
        tags: ['admin'],
        operationId: 'setTeamBudgets',
        summary: 'Set a team\'s budgets (USD; null clears, a field left out keeps its value)',
        security: SECURITY,
        requestBody: { required: true, content: { 'application/json': { schema: plain(TeamBody) } } },
        responses: { '200': ok('The team\'s budgets.', TEAM_VIEW), ...err(401, 403, 422, 429) },
      },
    },
    '/admin/usage': {
      get: {
        tags: ['admin'],
        operationId: 'usage',
        summary: 'Spend, reservations, megapixels, images and answers by status class, optionally grouped (day × key grids for charts)',
        security: SECURITY,
        parameters: [
          query('key_id', 'Only this key'),
          query('team', 'Only this team'),
          query('end_user', 'Only this end user'),
          FROM,
          TO,
          query('group_by', 'One dimension, or a time dimension by key or team; each row then carries the dimension\'s columns (day, hour, key_id + key_name + team, team, end_user)', { enum: GROUP_BY }),
          FORMAT,
        ],
        responses: {
          '200': ok('The report.', USAGE_REPORT, 'group, requests, spent_usd, reserved_usd, megapixels, billed_units (the original columns), then overruns, images, released, http_2xx, http_402, http_429, http_4xx, http_5xx, day, hour, key_id, key_name, team, end_user'),
          ...err(400, 401, 403, 422, 429),
        },
      },
    },
    '/admin/requests': {
      get: {
        tags: ['admin'],
        operationId: 'listRequests',
        summary: 'Ledger rows newest first, a page at a time, with flags and fal request ids',
        description:
          'Pages follow (created_at, id) downwards: rows written while a client pages are newer than its cursor, so every row is returned exactly once. Image URLs are not kept in the ledger. With format=csv the next cursor is in the `x-next-cursor` header.',
        security: SECURITY,
        parameters: [
          query('key_id', 'Only this key'),
          query('team', 'Only this team'),
          query('state', 'Only rows in this state', { enum: ['reserved', 'settled', 'released'] }),
          query('outcome', 'Only this outcome, e.g. failed'),
          query('flag', 'Only rows with this flag', { enum: ['unverified', 'recovered', 'overrun', 'open'] }),
          query('fal_request_id', "fal's request id"),
          FROM,
          TO,
          query('limit', 'Rows per page, 1 to 500 (default 100)'),
          query('cursor', '`next_cursor` of the previous page'),
          FORMAT,
        ],
        responses: { '200': ok('One page.', REQUEST_PAGE, 'One line per row, the JSON fields with the flags as four columns'), ...err(400, 401, 403, 422, 429) },
      },
    },
  };
}
