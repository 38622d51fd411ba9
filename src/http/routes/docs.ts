/** OpenAPI document of the mirror at /docs/openapi.json and a Swagger UI at /docs (assets served locally). */
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { buildOpenApiDocument } from '../../domain/openapi.js';
import type { UnknownFieldPolicy } from '../../domain/validation.js';

export async function docsRoutes(app: FastifyInstance, publicUrl: string | undefined, unknownFields: UnknownFieldPolicy): Promise<void> {
  const document = buildOpenApiDocument({ publicUrl, unknownFields });
  await app.register(swagger, { mode: 'static', specification: { document: document as never } });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/docs/openapi.json', { schema: { hide: true } }, () => document);
}
