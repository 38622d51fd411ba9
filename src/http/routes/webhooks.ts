/**
 * fal's deliveries to the gateway (`POST /webhooks/fal`) and the gateway's own webhook keys
 * (`GET /.well-known/jwks.json`), which receivers of relayed deliveries verify against
 * (webhooks/, README "Webhooks"). Neither takes a gateway key: fal's signature is the credential.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { GatewayError } from '../../errors.js';
import { FAL_WEBHOOK_PATH, type GatewayWebhooks } from '../../webhooks/gateway-webhooks.js';

export function webhookRoutes(app: FastifyInstance, hooks: GatewayWebhooks): void {
  // fal's payload is the result itself, with sync_mode images inline: room for four large data URIs.
  // What the headers alone refuse, and deliveries beyond the in-flight cap, are answered before
  // any of that body is read (onRequest runs ahead of body parsing).
  const onRequest = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => done(hooks.admit(request, reply) ?? undefined);
  app.post(FAL_WEBHOOK_PATH, { bodyLimit: 16 * 1024 * 1024, onRequest }, async (request, reply) => {
    await hooks.receive(request);
    return reply.code(200).send({ received: true });
  });
  app.get('/.well-known/jwks.json', async (request, reply) => {
    let jwks;
    try {
      jwks = (await hooks.relaySigner()).jwks();
    } catch (err) {
      request.log.warn({ err }, 'webhook signing key unavailable');
      throw new GatewayError('service_unavailable', 'Webhook keys unavailable', { 'retry-after': '5' });
    }
    return reply.header('cache-control', 'public, max-age=3600').send(jwks);
  });
}
