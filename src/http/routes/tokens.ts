/**
 * `POST /v1/tokens`: a secret-key holder mints a short-lived browser token (expiry ≤ 1 h) scoped to
 * this endpoint, with optional caps. A token cannot mint tokens; a publishable key cannot either.
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { microToUsdNumber, usdToMicro } from '../../domain/pricing.js';
import { TokenBody, isOrigin, mintToken } from '../../domain/tokens.js';
import { GatewayError } from '../../errors.js';
import type { PipelineContext } from '../../pipeline/context.js';
import { authenticate } from '../../pipeline/principal.js';
import { jsonBody } from '../json-body.js';

type TokenInput = Static<typeof TokenBody>;

export function tokenRoutes(app: FastifyInstance, ctx: PipelineContext): void {
  app.post(
    '/v1/tokens',
    {
      preValidation: (request, _reply, done) => {
        request.body = jsonBody(request)?.value ?? {};
        done();
      },
      schema: { body: TokenBody },
    },
    async (request, reply) => {
      request.facts.op = 'token';
      const principal = await authenticate(ctx, request);
      request.facts.keyId = principal.keyId;
      // Counted like polling (cheap, no fal call), so a page minting a token per visitor never
      // eats the key's generation allowance, yet cannot mint without limit.
      await ctx.limits.check(request, reply, principal.keyId, principal.key.rpm, 'polling');
      if (principal.token !== null || principal.key.kind !== 'secret') {
        throw new GatewayError('forbidden', 'Only a secret key can mint tokens');
      }
      const input = request.body as TokenInput;
      const origins = input.allowed_origins ?? [];
      if (!origins.every(isOrigin)) throw new GatewayError('bad_request', 'allowed_origins must be exact origins like https://app.example.com');
      const exp = Math.floor(ctx.now().getTime() / 1000) + (input.expires_in ?? 900);
      const maxMicroUsd = input.max_usd === undefined ? null : usdToMicro(input.max_usd);
      const minted = mintToken(ctx.tokenMacKey, {
        keyId: principal.keyId,
        exp,
        maxMicroUsd,
        maxImages: input.max_images ?? null,
        allowedOrigins: origins,
        endUser: input.end_user ?? null,
      });
      if (minted === null) throw new GatewayError('bad_request', 'These allowed_origins and end_user make the token too long; list fewer or shorter origins');
      const { token, id } = minted;
      return reply.code(201).send({
        token,
        token_id: id,
        expires_at: new Date(exp * 1000).toISOString(),
        max_usd: maxMicroUsd === null ? null : microToUsdNumber(maxMicroUsd),
        max_images: input.max_images ?? null,
        allowed_origins: origins,
        end_user: input.end_user ?? null,
      });
    },
  );
}
