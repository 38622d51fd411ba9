/** `GET /admin/requests`: ledger rows newest first, a page at a time (services/request-report.ts), as JSON or CSV. */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { GatewayError } from '../../errors.js';
import type { PipelineContext } from '../../pipeline/context.js';
import type { LedgerFlag, LedgerState } from '../../store/ledger-store.js';
import { DEFAULT_PAGE, MAX_PAGE, decodeCursor, requestPage, requestsCsv } from '../../services/request-report.js';
import { parseBound } from '../../services/usage-report.js';
import { csvReply, keyNames } from './admin-usage.js';

export const RequestsQuery = Type.Object(
  {
    key_id: Type.Optional(Type.String({ maxLength: 64 })),
    team: Type.Optional(Type.String({ maxLength: 100 })),
    state: Type.Optional(Type.Union([Type.Literal('reserved'), Type.Literal('settled'), Type.Literal('released')])),
    outcome: Type.Optional(Type.String({ maxLength: 50 })),
    flag: Type.Optional(Type.Union([Type.Literal('unverified'), Type.Literal('recovered'), Type.Literal('overrun'), Type.Literal('open')])),
    fal_request_id: Type.Optional(Type.String({ maxLength: 200 })),
    from: Type.Optional(Type.String({ maxLength: 40, description: 'Inclusive: YYYY-MM-DD (midnight UTC) or an ISO-8601 timestamp' })),
    to: Type.Optional(Type.String({ maxLength: 40, description: 'Exclusive: YYYY-MM-DD (midnight UTC) or an ISO-8601 timestamp' })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: `Rows per page, 1 to ${MAX_PAGE} (default ${DEFAULT_PAGE})` })),
    cursor: Type.Optional(Type.String({ maxLength: 400, description: 'next_cursor of the previous page' })),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
  },
  { additionalProperties: false },
);

interface RequestsQueryT {
  key_id?: string;
  team?: string;
  state?: LedgerState;
  outcome?: string;
  flag?: LedgerFlag;
  fal_request_id?: string;
  from?: string;
  to?: string;
  limit?: string;
  cursor?: string;
  format?: 'json' | 'csv';
}

export function adminRequestRoutes(app: FastifyInstance, ctx: PipelineContext): void {
  app.get('/admin/requests', { schema: { querystring: RequestsQuery } }, async (request, reply) => {
    const q = request.query as RequestsQueryT;
    const from = parseBound(q.from);
    const to = parseBound(q.to);
    if (from === null || to === null) throw new GatewayError('bad_request', 'from and to must be YYYY-MM-DD or ISO-8601 timestamps');
    const limit = q.limit === undefined ? DEFAULT_PAGE : Number(q.limit);
    if (limit < 1 || limit > MAX_PAGE) throw new GatewayError('bad_request', `limit must be 1 to ${MAX_PAGE}`);
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    if (after === null) throw new GatewayError('bad_request', 'cursor is not one this API returned');
    const filters = { keyId: q.key_id, team: q.team, state: q.state, outcome: q.outcome, flag: q.flag, falRequestId: q.fal_request_id, from, to };
    const page = await requestPage(ctx.stores.ledger, { ...filters, after, limit }, await keyNames(ctx));
    if (q.format !== 'csv') return page;
    // A CSV page has nowhere to carry the cursor but a header.
    if (page.next_cursor !== null) void reply.header('x-next-cursor', page.next_cursor);
    return csvReply(reply, 'requests', requestsCsv(page));
  });
}
