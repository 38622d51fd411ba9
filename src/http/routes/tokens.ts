/**
 * `POST /v1/tokens`: a secret-key holder mints a short-lived browser token (expiry ≤ 1 h) scoped to
 * this endpoint, with optional caps. A token cannot mint tokens; a publishable key cannot either.
 */
import type { FastifyInstance } from 'fastify';
import { TokenBody } from '../../domain/tokens.js';
import { GatewayError } from '../../errors.js';
import type { PipelineContext } from '../../pipeline/context.js';
import { authenticate } from '../../pipeline/principal.js';
import { mintKeyToken, type TokenInput } from '../../services/token-mint.js';
import { jsonBody } from '../json-body.js';

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
      return reply.code(201).send(await mintKeyToken(ctx.tokenMacKey, principal.key, request.body as TokenInput, ctx.now()));
    },
  );
}
