/**
 * `GET /v1/usage`: a caller's own spend. A key sees its spend, reservations, budgets and limits; a
 * browser token sees only its own consumption and caps (never its parent key's or team's figures).
 */
import type { FastifyInstance } from 'fastify';
import { tokenCounters } from '../../domain/budgets.js';
import { microToUsdNumber } from '../../domain/pricing.js';
import type { TokenClaims } from '../../domain/tokens.js';
import type { PipelineContext } from '../../pipeline/context.js';
import { authenticate } from '../../pipeline/principal.js';
import { selfUsage } from '../../services/usage-report.js';

export function selfServiceRoutes(app: FastifyInstance, ctx: PipelineContext): void {
  app.get('/v1/usage', async (request, reply) => {
    request.facts.op = 'usage';
    const principal = await authenticate(ctx, request);
    request.facts.keyId = principal.keyId;
    // Counted with polling calls (a read, no fal call).
    await ctx.limits.check(request, reply, principal.keyId, principal.key.rpm, 'polling');
    if (principal.token) return tokenUsage(ctx, principal.token);
    return selfUsage(ctx.stores.ledger, ctx.stores.teams, principal.key, ctx.now());
  });
}

async function tokenUsage(ctx: PipelineContext, t: TokenClaims) {
  const [money, images] = await ctx.stores.ledger.counterTotals(tokenCounters({ tokenId: t.id, maxMicroUsd: t.maxMicroUsd, maxImages: t.maxImages }));
  const spent = money ?? { spentMicro: 0, reservedMicro: 0 };
  const used = images ?? { spentMicro: 0, reservedMicro: 0 };
  return {
    token_id: t.id,
    end_user: t.endUser,
    expires_at: new Date(t.exp * 1000).toISOString(),
    spent_usd: microToUsdNumber(spent.spentMicro),
    reserved_usd: microToUsdNumber(spent.reservedMicro),
    max_usd: t.maxMicroUsd === null ? null : microToUsdNumber(t.maxMicroUsd),
    remaining_usd: t.maxMicroUsd === null ? null : microToUsdNumber(Math.max(0, t.maxMicroUsd - spent.spentMicro - spent.reservedMicro)),
    images_used: used.spentMicro + used.reservedMicro,
    max_images: t.maxImages,
  };
}
