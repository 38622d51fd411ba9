/**
 * Baseline: bare Fastify + @fastify/reply-from (logger off), the idiomatic Fastify proxy. Bodies
 * are passed through as streams (the @fastify/http-proxy content-type parser), never parsed.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import replyFrom from '@fastify/reply-from';
import { QUEUE_PREFIX, baselineEnv, onSignals } from './env.js';

const env = baselineEnv();
const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

const auth = `Key ${env.falKey}`;
const upstream = (base: URL, prefix: string) => async (scope: FastifyInstance) => {
  await scope.register(replyFrom, { base: base.origin, undici: { connections: 256 } });
  scope.all(`${prefix}/*`, (request, reply) =>
    reply.from(request.url.slice(prefix.length), { rewriteRequestHeaders: (_req, headers) => ({ ...headers, authorization: auth }) }),
  );
};
await app.register(upstream(env.queueUrl, QUEUE_PREFIX));
await app.register(upstream(env.runUrl, ''));
await app.listen({ host: '127.0.0.1', port: env.port });
onSignals(() => void app.close().then(() => process.exit(0)));
