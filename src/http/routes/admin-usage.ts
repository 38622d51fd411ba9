/** Admin reports and team budgets: `GET /admin/usage` (JSON or CSV), `GET /admin/teams[/:name]`, `PUT /admin/teams/:name`. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { GatewayError } from '../../errors.js';
import type { PipelineContext } from '../../pipeline/context.js';
import type { UsageDimension } from '../../store/ledger-store.js';
import { auditContext } from './admin-auth.js';
import { TEAM_NAME, TeamBody, setTeamBudgets, teamView, type TeamInput } from '../../services/team-admin.js';
import { teamReports, teamsCsv } from '../../services/team-report.js';
import { parseBound, usageCsv, usageReport, type KeyNames } from '../../services/usage-report.js';

/** One dimension, or a time dimension by a key or team (the console's charts). */
export const GROUP_BYS: Record<string, UsageDimension[]> = {
  day: ['day'],
  hour: ['hour'],
  key: ['key'],
  team: ['team'],
  end_user: ['end_user'],
  'day,key': ['day', 'key'],
  'day,team': ['day', 'team'],
  'hour,key': ['hour', 'key'],
  'hour,team': ['hour', 'team'],
};

const Format = Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')]));

export const UsageQuery = Type.Object(
  {
    key_id: Type.Optional(Type.String({ maxLength: 64 })),
    team: Type.Optional(Type.String({ maxLength: 100 })),
    from: Type.Optional(Type.String({ maxLength: 40, description: 'Inclusive: YYYY-MM-DD (midnight UTC) or an ISO-8601 timestamp' })),
    to: Type.Optional(Type.String({ maxLength: 40, description: 'Exclusive: YYYY-MM-DD (midnight UTC) or an ISO-8601 timestamp' })),
    end_user: Type.Optional(Type.String({ maxLength: 128 })),
    group_by: Type.Optional(Type.Union(Object.keys(GROUP_BYS).map((g) => Type.Literal(g)))),
    format: Format,
  },
  { additionalProperties: false },
);

export const TeamsQuery = Type.Object({ format: Format }, { additionalProperties: false });
const TeamParams = Type.Object({ name: Type.String({ pattern: TEAM_NAME.source }) });

export function csvReply(reply: FastifyReply, name: string, body: string): FastifyReply {
  return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`).send(body);
}

/** Key id → name and team, for reports that show names beside ids. */
export async function keyNames(ctx: PipelineContext): Promise<KeyNames> {
  return new Map((await ctx.stores.keys.list()).map((k) => [k.id, { name: k.name, team: k.team }]));
}

export function adminUsageRoutes(app: FastifyInstance, ctx: PipelineContext): void {
  app.get('/admin/usage', { schema: { querystring: UsageQuery } }, async (request, reply) => {
    const q = request.query as { key_id?: string; team?: string; end_user?: string; from?: string; to?: string; group_by?: string; format?: 'json' | 'csv' };
    const from = parseBound(q.from);
    const to = parseBound(q.to);
    if (from === null || to === null) throw new GatewayError('bad_request', 'from and to must be YYYY-MM-DD or ISO-8601 timestamps');
    const dims = q.group_by === undefined ? undefined : GROUP_BYS[q.group_by];
    const names: KeyNames = dims?.includes('key') === true ? await keyNames(ctx) : new Map<string, { name: string; team: string | null }>();
    const report = await usageReport(ctx.stores.ledger, { keyId: q.key_id, team: q.team, endUser: q.end_user, from, to, groupBy: dims }, names);
    return q.format === 'csv' ? csvReply(reply, 'usage', usageCsv(report)) : report;
  });

  app.get('/admin/teams', { schema: { querystring: TeamsQuery } }, async (request, reply) => {
    const [teams, keys] = await Promise.all([ctx.stores.teams.list(), ctx.stores.keys.list()]);
    const reports = await teamReports(ctx.stores.ledger, teams, keys, ctx.now());
    return (request.query as { format?: string }).format === 'csv' ? csvReply(reply, 'teams', teamsCsv(reports)) : { teams: reports };
  });

  app.get('/admin/teams/:name', { schema: { params: TeamParams } }, async (request) => {
    const { name } = request.params as { name: string };
    const [team, keys] = await Promise.all([ctx.stores.teams.get(name), ctx.stores.keys.list()]);
    const [report] = await teamReports(ctx.stores.ledger, team ? [team] : [], keys, ctx.now(), name);
    if (report === undefined) throw new GatewayError('not_found', 'No such team: it has no budget and no key names it');
    return report;
  });

  app.put('/admin/teams/:name', { schema: { body: TeamBody, params: TeamParams } }, async (request) => {
    const { name } = request.params as { name: string };
    return teamView(await setTeamBudgets(ctx.stores.teams, name, request.body as TeamInput, ctx.now(), auditContext(ctx, request)));
  });
}
