/** Admin session check and products (docs/http-api.md "Admin API"). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AdminSession,
  ProductAnswer,
  ProductCreate,
  ProductIdParams,
  ProductList,
  ProductPatch,
} from '../../../contract/index.js';
import type { ServerOptions } from '../../options.js';
import { adminRoute } from './schema.js';

export const adminProductRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (
  app,
  options,
) => {
  const { payments, mode } = options;
  const { catalogue, context } = payments;

  app.get('/session', { schema: adminRoute({ response: { 200: AdminSession } }) }, async () => ({
    ok: true as const,
    mode,
    appId: context.gateway.appId,
    mchId: context.gateway.mchId,
  }));

  app.get('/products', { schema: adminRoute({ response: { 200: ProductList } }) }, async () => ({
    products: await catalogue.list(true),
  }));

  app.post(
    '/products',
    { schema: adminRoute({ body: ProductCreate, response: { 201: ProductAnswer } }) },
    async (request, reply) =>
      reply.code(201).send({ product: await catalogue.create(request.body) }),
  );

  app.patch(
    '/products/:id',
    {
      schema: adminRoute({
        params: ProductIdParams,
        body: ProductPatch,
        response: { 200: ProductAnswer },
      }),
    },
    async (request) => ({ product: await catalogue.update(request.params.id, request.body) }),
  );
};
