/**
 * /openapi.json (and /docs/openapi.json): the routes' schemas from src/contract, the shared
 * ones (COMPONENTS) registered once and listed as components.
 */
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { COMPONENTS } from '../../contract/index.js';

export async function openApi(app: FastifyInstance): Promise<void> {
  for (const schema of COMPONENTS) app.addSchema(schema);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'minipay',
        version: '1',
        description:
          'WeChat Mini Program payments: the mini program API, WeChat callbacks and the admin API.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
    },
  });
}

/** The document's routes: registered after every other route, so that all are in it. */
export function openApiRoutes(app: FastifyInstance): void {
  const openapi = async () => app.swagger();
  app.get('/openapi.json', { schema: { hide: true } }, openapi);
  app.get('/docs/openapi.json', { schema: { hide: true } }, openapi);
}
