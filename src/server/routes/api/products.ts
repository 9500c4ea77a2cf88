/** The catalogue the mini program shows: active products only. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ProductList } from '../../../contract/index.js';
import type { ServerOptions } from '../../options.js';
import { openRoute } from './schema.js';

export const productRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (app, options) => {
  const { catalogue } = options.payments;
  app.get(
    '/api/v1/products',
    { schema: openRoute({ response: { 200: ProductList } }) },
    async () => ({ products: await catalogue.list() }),
  );
};
