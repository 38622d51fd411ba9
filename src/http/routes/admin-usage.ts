/** Admin reports and team budgets: `GET /admin/usage` (JSON or CSV), `GET|PUT /admin/teams[/:name]`. */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { GatewayError } from '../../errors.js';
import type { PipelineContext } from '../../pipeline/context.js';
import { auditContext } from './admin-auth.js';
import { TEAM_NAME, TeamBody, setTeamBudgets, teamView, type TeamInput } from '../../services/team-admin.js';
import { parseBound, usageCsv, usageReport } from '../../services/usage-report.js';

const UsageQuery = Type.Object(
  {
    key_id: Type.Optional(Type.String({ maxLength: 64 })),
    team: Type.Optional(Type.String({ maxLength: 100 })),
    from: Type.Optional(Type.String({ maxLength: 40 })),
    to: Type.Optional(Type.String({ maxLength: 40 })),
    end_user: Type.Optional(Type.String({ maxLength: 128 })),
    group_by: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('key'), Type.Literal('end_user')])),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
  },
  { additionalProperties: false },
);

export function adminUsageRoutes(app: FastifyInstance, ctx: PipelineContext): void {
  app.get('/admin/usage', { schema: { querystring: UsageQuery } }, async (request, reply) => {
    const q = request.query as { key_id?: string; team?: string; end_user?: string; from?: string; to?: string; group_by?: 'day' | 'key' | 'end_user'; format?: 'json' | 'csv' };
    const from = parseBound(q.from);
    const to = parseBound(q.to);
    if (from === null || to === null) throw new GatewayError('bad_request', 'from and to must be YYYY-MM-DD or ISO-8601 timestamps');
    const report = await usageReport(ctx.stores.ledger, { keyId: q.key_id, team: q.team, endUser: q.end_user, from, to, groupBy: q.group_by });
    if (q.format === 'csv') return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="usage.csv"').send(usageCsv(report));
    return report;
  });

  app.get('/admin/teams', async () => ({ teams: (await ctx.stores.teams.list()).map(teamView) }));

  app.put('/admin/teams/:name', { schema: { body: TeamBody, params: Type.Object({ name: Type.String({ pattern: TEAM_NAME.source }) }) } }, async (request) => {
    const { name } = request.params as { name: string };
    return teamView(await setTeamBudgets(ctx.stores.teams, name, request.body as TeamInput, ctx.now(), auditContext(ctx, request)));
  });
}
