/** Admin session check and products (docs/http-api.md "Admin API"). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@fastify/type-provider-typebox';
import type { ServerOptions } from '../../options.js';
import {
  errorResponses,
  ProductAnswer,
  ProductCreate,
  ProductList,
  ProductPatch,
} from '../../schemas.js';

const secured = [{ bearer: [] }];
const ProductIdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) });

export const adminProductRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (
  app,
  options,
) => {
  const { payments, mode } = options;
  const { catalogue, context } = payments;

  app.get('/session', { schema: { tags: ['admin'], security: secured } }, async () => ({
    ok: true,
    mode,
    appId: context.gateway.appId,
    mchId: context.gateway.mchId,
  }));

  app.get(
    '/products',
    {
      schema: {
        tags: ['admin'],
        security: secured,
        response: { 200: ProductList, ...errorResponses },
      },
    },
    async () => ({ products: await catalogue.list(true) }),
  );

  app.post(
    '/products',
    {
      schema: {
        tags: ['admin'],
        security: secured,
        body: ProductCreate,
        response: { 201: ProductAnswer, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.code(201).send({ product: await catalogue.create(request.body) }),
  );

  app.patch(
    '/products/:id',
    {
      schema: {
        tags: ['admin'],
        security: secured,
        params: ProductIdParams,
        body: ProductPatch,
        response: { 200: ProductAnswer, ...errorResponses },
      },
    },
    async (request) => ({ product: await catalogue.update(request.params.id, request.body) }),
  );
};
